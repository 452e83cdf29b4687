import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { bucketRange } from "../core/buckets.js";
import type { Clock } from "../core/clock.js";
import { DEFAULT_MAX_BUCKETS } from "../core/defaults.js";
import { ApiError, invalidArgument, Subcode } from "../core/errors.js";
import type { CallContext } from "../core/identity.js";
import { isMetricKey, samplesOf } from "../core/machine-stats.js";
import type { PresenceEvent, PresenceStore, WorkerKey } from "../core/presence-store.js";
import type { MetricRequest, StatsStore } from "../core/stats-store.js";
import { quoteForMessage } from "../core/truncate.js";
import { type PresenceRecord, PresenceRecordSchema } from "../gen/muster/presence/v1/record_pb.js";
import {
  ActivitySeriesSchema,
  Aggregation,
  CurrentTaskEntrySchema,
  type IdNameEntry,
  MetricsCategorySchema,
  type QueueEntry,
  type StatItem,
  type Worker,
  WorkerSchema,
} from "../gen/muster/workers/v1/types_pb.js";
import {
  type GetActivityReportRequest,
  GetActivityReportRequestSchema,
  type GetActivityReportResponse,
  GetActivityReportResponseSchema,
  type GetAllRequest,
  GetAllRequestSchema,
  type GetAllResponse,
  GetAllResponseSchema,
  type GetCountRequest,
  GetCountRequestSchema,
  type GetCountResponse,
  GetCountResponseSchema,
  type GetMetricKeysRequest,
  GetMetricKeysRequestSchema,
  type GetMetricKeysResponse,
  GetMetricKeysResponseSchema,
  type GetStatsRequest,
  GetStatsRequestSchema,
  type GetStatsResponse,
  GetStatsResponseSchema,
  type RegisterRequest,
  RegisterRequestSchema,
  type RegisterResponse,
  RegisterResponseSchema,
  type StatusReportRequest,
  StatusReportRequestSchema,
  type StatusReportResponse,
  StatusReportResponseSchema,
  type UnregisterRequest,
  UnregisterRequestSchema,
  type UnregisterResponse,
  UnregisterResponseSchema,
  type WatchWorkersRequest,
  WatchWorkersRequestSchema,
  type WatchWorkersResponse,
  WatchWorkersResponseSchema,
  LeftReason as WireLeftReason,
} from "../gen/muster/workers/v1/workers_pb.js";
import type { WorkersApi } from "./api.js";
import { CompanyViews } from "./company-views.js";
import { checkEntryLists, checkEntrySize } from "./entry-limits.js";
import { EventQueue } from "./event-queue.js";
import { type WorkerFilter, workerMatcher } from "./filters.js";
import { asUnknownWorkers, encodedWorkersFields } from "./get-all-wire.js";
import { decodePageToken, encodePageToken, type PagedQuery } from "./page-token.js";
import { copyRecord, copyWorker } from "./record-copy.js";
import { SharedEntries } from "./shared-entries.js";
import type { ViewEntry } from "./sorted-records.js";
import { activitySeriesOf, workerStatsOf } from "./stats-answers.js";
import { idNameEntry, queueEntry, taskEntry, timestampAt } from "./stored-messages.js";
import { checkReportTime, reportTimeMs } from "./timestamps.js";
import { validate } from "./validation.js";

export interface ServiceOptions {
  /** Registration time to live when a request gives none, seconds. ClearML's is 600. */
  readonly defaultTimeoutSeconds: number;
  /** get_all's last_seen when the request gives none, seconds. */
  readonly defaultLastSeenSeconds: number;
  /** The most buckets one get_stats or get_activity_report answer may have. */
  readonly maxBuckets: number;
  /** Whether status_report from an unknown worker registers it (ClearML's default) or fails. */
  readonly autoRegister: boolean;
  /** Events a WatchWorkers client may fall behind by before its stream is ended. */
  readonly maxPendingEvents: number;
}

/** The most workers one page of get_all holds; a larger page_size counts as this (AIP-158). */
export const MAX_PAGE_SIZE = 10_000;

export const DEFAULT_SERVICE_OPTIONS: ServiceOptions = {
  defaultTimeoutSeconds: 600,
  defaultLastSeenSeconds: 3600,
  maxBuckets: DEFAULT_MAX_BUCKETS,
  autoRegister: true,
  maxPendingEvents: 10_000,
};

export interface ServiceDeps {
  readonly presence: PresenceStore;
  readonly stats: StatsStore;
  readonly clock: Clock;
  readonly options?: Partial<ServiceOptions>;
}

/**
 * The workers service: every endpoint's behaviour, independent of transport and storage. Each
 * method validates its request against the proto's rules first, and throws ApiError on bad input.
 */
export class WorkersServiceImpl implements WorkersApi {
  private readonly presence: PresenceStore;
  private readonly stats: StatsStore;
  private readonly clock: Clock;
  /** get_all's order kept as workers change, per company. */
  private readonly views: CompanyViews;
  /** User, company and queue entries shared by the records that name them. */
  private readonly shared: SharedMessages = {
    idNames: new SharedEntries(idNameEntry),
    queues: new SharedEntries(queueEntry),
  };
  readonly options: ServiceOptions;

  constructor(deps: ServiceDeps) {
    this.presence = deps.presence;
    this.stats = deps.stats;
    this.clock = deps.clock;
    this.options = { ...DEFAULT_SERVICE_OPTIONS, ...deps.options };
    this.views = new CompanyViews(deps.presence);
  }

  async register(request: RegisterRequest, ctx: CallContext): Promise<RegisterResponse> {
    validate(RegisterRequestSchema, request);
    const now = this.clock.now();
    await this.presence.update(keyOf(ctx, request.worker), () => {
      const record = this.newRecord(ctx, request.worker, now, request.timeout);
      const worker = record.worker as Worker;
      worker.queues = request.queues.map((id) => this.shared.queues.entry(id));
      worker.tags = [...request.tags];
      worker.systemTags = [...request.systemTags];
      checkEntrySize(worker);
      return record;
    });
    return create(RegisterResponseSchema);
  }

  async unregister(request: UnregisterRequest, ctx: CallContext): Promise<UnregisterResponse> {
    validate(UnregisterRequestSchema, request);
    await this.presence.remove(keyOf(ctx, request.worker));
    return create(UnregisterResponseSchema);
  }

  async statusReport(
    request: StatusReportRequest,
    ctx: CallContext,
  ): Promise<StatusReportResponse> {
    validate(StatusReportRequestSchema, request);
    // The stored entry is checked again once merged; this catches an over-large report before its
    // samples are recorded.
    checkEntryLists(request.tags, request.systemTags, request.queues);
    const now = this.clock.now();
    const timeMs = reportTimeMs(request.timestamp);
    checkReportTime(timeMs, now);
    const presence = this.presence.update(keyOf(ctx, request.worker), (current) => {
      if (current === undefined && !this.options.autoRegister) {
        throw new ApiError(
          Code.InvalidArgument,
          Subcode.unknownWorker,
          `worker: ${quoteForMessage(request.worker)} is not registered`,
        );
      }
      const record = applyReport(
        current ?? this.newRecord(ctx, request.worker, now, 0),
        request,
        now,
        this.shared,
      );
      if (record.worker !== undefined) checkEntrySize(record.worker);
      return record;
    });
    const stats = this.stats.record({
      company: ctx.identity.company,
      worker: request.worker,
      task: request.task === "" ? undefined : request.task,
      timeMs,
      samples: samplesOf(request.machineStats),
    });
    await Promise.all([presence, stats]);
    return create(StatusReportResponseSchema);
  }

  async getAll(request: GetAllRequest, ctx: CallContext): Promise<GetAllResponse> {
    const page = await this.getAllPage(request, ctx);
    // Assigned rather than passed to create(), which would copy and check 100,000 elements.
    const response = create(GetAllResponseSchema, { nextPageToken: page.nextPageToken });
    response.workers = page.entries.map((entry) => workerView(entry.record, page.nowMs));
    return response;
  }

  /**
   * getAll for the binary protocols: the same answer, its workers carried as their cached
   * encodings (unknown-field entries of up to 64 KB, get-all-wire.ts), which a binary encoder
   * writes as they are. JSON encoders ignore unknown fields: JSON callers use getAll.
   */
  async getAllEncoded(request: GetAllRequest, ctx: CallContext): Promise<GetAllResponse> {
    const page = await this.getAllPage(request, ctx);
    const response = create(GetAllResponseSchema, { nextPageToken: page.nextPageToken });
    if (page.entries.length > 0) {
      response.$unknown = encodedWorkersFields(page.entries, page.nowMs).map(asUnknownWorkers);
    }
    return response;
  }

  /** The view entries get_all answers with, in order, and where the next page starts. */
  private async getAllPage(request: GetAllRequest, ctx: CallContext) {
    validate(GetAllRequestSchema, request);
    const { company } = ctx.identity;
    const lastSeen = request.lastSeen ?? this.options.defaultLastSeenSeconds;
    const query: PagedQuery = { ...request, company, lastSeen };
    const after = decodePageToken(request.pageToken, query);
    const pageSize =
      request.pageSize === 0 ? Number.POSITIVE_INFINITY : Math.min(request.pageSize, MAX_PAGE_SIZE);
    const view = await this.views.of(company);
    // Asks the store too: it fails while unreachable, as a list would, and the memory store drops
    // (and reports to the view) entries whose deadline passed.
    await this.presence.count(company);
    const nowMs = this.clock.now();
    const activeSinceMs = lastSeen > 0 ? nowMs - lastSeen * 1000 : Number.NEGATIVE_INFINITY;
    // The tag and name filters read the worker; without them the walk reads view entries only.
    const filtered =
      request.tags.length > 0 || request.systemTags.length > 0 || request.workerPattern !== "";
    const matches = filtered ? matching({ ...request, lastSeenSeconds: 0 }, nowMs) : undefined;
    const entries: ViewEntry[] = [];
    let nextPageToken = "";
    walk: for (const run of view.runsFrom(after)) {
      for (let i = run.start; i < run.entries.length; i++) {
        const entry = run.entries[i];
        // The view learns of expiry from the store's events, which may come a little late.
        if (entry === undefined || entry.deadlineMs <= nowMs) continue;
        if (entry.lastActivityMs < activeSinceMs) continue;
        if (matches !== undefined && !matches(entry.record)) continue;
        const last = entries[entries.length - 1];
        if (entries.length === pageSize && last !== undefined) {
          nextPageToken = encodePageToken(last, query);
          break walk;
        }
        entries.push(entry);
      }
    }
    return { entries, nextPageToken, nowMs };
  }

  async getCount(request: GetCountRequest, ctx: CallContext): Promise<GetCountResponse> {
    validate(GetCountRequestSchema, request);
    const filter: WorkerFilter = {
      lastSeenSeconds: request.lastSeen,
      tags: request.tags,
      systemTags: request.systemTags,
      workerPattern: request.workerPattern,
    };
    const unfiltered =
      filter.lastSeenSeconds === 0 &&
      filter.tags.length === 0 &&
      filter.systemTags.length === 0 &&
      filter.workerPattern === "";
    // Without filters the store counts (O(1) in memory); with them, matches are counted, not sorted.
    const count = unfiltered
      ? await this.presence.count(ctx.identity.company)
      : (await this.presence.list(ctx.identity.company)).filter(matching(filter, this.clock.now()))
          .length;
    return create(GetCountResponseSchema, { count });
  }

  async getStats(request: GetStatsRequest, ctx: CallContext): Promise<GetStatsResponse> {
    validate(GetStatsRequestSchema, request);
    const metrics = metricRequests(request.items);
    const range = bucketRange(
      request.fromDate ?? 0,
      request.toDate ?? 0,
      request.interval,
      this.options.maxBuckets,
    );
    const rows = this.stats.stats({
      company: ctx.identity.company,
      workers: request.workerIds,
      range,
      metrics,
      splitByVariant: request.splitByVariant,
    });
    return create(GetStatsResponseSchema, { workers: await workerStatsOf(rows, metrics) });
  }

  async getActivityReport(
    request: GetActivityReportRequest,
    ctx: CallContext,
  ): Promise<GetActivityReportResponse> {
    validate(GetActivityReportRequestSchema, request);
    const range = bucketRange(
      request.fromDate ?? 0,
      request.toDate ?? 0,
      request.interval,
      this.options.maxBuckets,
    );
    const rows = this.stats.activity({ company: ctx.identity.company, range });
    const activity = await activitySeriesOf(rows, range);
    const dates = activity.dates.map((d) => BigInt(d));
    return create(GetActivityReportResponseSchema, {
      total: create(ActivitySeriesSchema, { dates, counts: activity.total }),
      active: create(ActivitySeriesSchema, { dates, counts: activity.active }),
    });
  }

  async getMetricKeys(
    request: GetMetricKeysRequest,
    ctx: CallContext,
  ): Promise<GetMetricKeysResponse> {
    validate(GetMetricKeysRequestSchema, request);
    const categories = await this.stats.metricKeys(ctx.identity.company, request.workerIds);
    if (categories.length === 0) {
      throw new ApiError(
        Code.InvalidArgument,
        Subcode.statsNotFound,
        request.workerIds.length === 0
          ? "no statistics recorded for any worker"
          : `no statistics recorded for worker_ids ${quoteForMessage(request.workerIds)}`,
      );
    }
    return create(GetMetricKeysResponseSchema, {
      categories: categories.map((c) => create(MetricsCategorySchema, c)),
    });
  }

  /**
   * The company's live workers, then every change to them, until `signal` aborts. Not a ClearML
   * endpoint: only the RPC protocols serve it.
   */
  async *watchWorkers(
    request: WatchWorkersRequest,
    ctx: CallContext,
    signal: AbortSignal,
  ): AsyncGenerator<WatchWorkersResponse> {
    validate(WatchWorkersRequestSchema, request);
    const queue = new EventQueue<PresenceEvent>(this.options.maxPendingEvents, signal);
    const watch = await this.presence.watch(ctx.identity.company, (event) => queue.push(event));
    try {
      const now = this.clock.now();
      const workers = watch.snapshot.map((record) => workerView(record, now)).sort(byIdThenUser);
      yield create(WatchWorkersResponseSchema, { event: { case: "snapshot", value: { workers } } });
      for await (const event of queue) yield eventResponse(event, this.clock.now());
    } finally {
      watch.stop();
    }
  }

  private newRecord(
    ctx: CallContext,
    workerId: string,
    nowMs: number,
    timeoutSeconds: number,
  ): PresenceRecord {
    const { company, user } = ctx.identity;
    const now = timestampAt(nowMs);
    // Copied into the literal layout every stored record has (record-copy.ts): create() leaves
    // its fields in a property array.
    const worker = copyWorker(
      create(WorkerSchema, {
        id: workerId,
        user: this.shared.idNames.entry(user),
        company: this.shared.idNames.entry(company),
        ...(ctx.clientIp === undefined ? {} : { ip: ctx.clientIp }),
        registerTime: now,
        lastActivityTime: now,
        registerTimeout: timeoutSeconds > 0 ? timeoutSeconds : this.options.defaultTimeoutSeconds,
        // join() makes one flat string; a template literal kept a rope (a concatenated string)
        // beside the flat one it was read as: 80 bytes a stored worker instead of 48.
        key: [company, user, workerId].join("/"),
      }),
    );
    return copyRecord(create(PresenceRecordSchema), worker);
  }
}

/**
 * A status report applied to a registration: task and queue are replaced (cleared when absent),
 * queues and tags only when the report lists some; activity times move to now.
 */
function applyReport(
  current: PresenceRecord,
  request: StatusReportRequest,
  nowMs: number,
  shared: SharedMessages,
): PresenceRecord {
  // A new record and worker, sharing what the report does not change (user, company, times, and
  // task, queue and lists when the report names the same): stored records and everything in them
  // are never changed in place, since readers may still hold them, so a deep copy per report is not
  // needed, and what is kept from the last report is not garbage for the collector.
  const worker = copyWorker(current.worker ?? create(WorkerSchema));
  const record = copyRecord(current, worker);
  if (request.task === "") {
    worker.task = undefined;
    record.taskStartedAt = undefined;
  } else if (worker.task?.id !== request.task) {
    worker.task = taskEntry(request.task);
    record.taskStartedAt = timestampAt(nowMs);
  }
  worker.queue = request.queue === "" ? undefined : shared.queues.entry(request.queue);
  if (request.queues.length > 0 && !sameQueues(worker.queues, request.queues)) {
    worker.queues = request.queues.map((id) => shared.queues.entry(id));
  }
  if (request.tags.length > 0 && !sameItems(worker.tags, request.tags)) {
    worker.tags = [...request.tags];
  }
  if (request.systemTags.length > 0 && !sameItems(worker.systemTags, request.systemTags)) {
    worker.systemTags = [...request.systemTags];
  }
  const now = timestampAt(nowMs);
  worker.lastActivityTime = now;
  worker.lastReportTime = now;
  return record;
}

/** Entries many records name alike, shared between them (shared-entries.ts). */
interface SharedMessages {
  readonly idNames: SharedEntries<IdNameEntry>;
  readonly queues: SharedEntries<QueueEntry>;
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

function sameQueues(queues: readonly QueueEntry[], ids: readonly string[]): boolean {
  return queues.length === ids.length && queues.every((queue, i) => queue.id === ids[i]);
}

/** The worker as clients see it: running_time derived from when the task was first reported. */
function workerView(record: PresenceRecord, nowMs: number): Worker {
  const worker = record.worker ?? create(WorkerSchema);
  if (worker.task === undefined || record.taskStartedAt === undefined) return worker;
  return create(WorkerSchema, {
    ...worker,
    task: create(CurrentTaskEntrySchema, {
      ...worker.task,
      runningTime: BigInt(
        Math.max(0, Math.floor((nowMs - timestampMs(record.taskStartedAt)) / 1000)),
      ),
    }),
  });
}

function eventResponse(event: PresenceEvent, nowMs: number): WatchWorkersResponse {
  const worker = workerView(event.record, nowMs);
  if (event.kind === "left") {
    const reason =
      event.reason === "expired" ? WireLeftReason.EXPIRED : WireLeftReason.UNREGISTERED;
    return create(WatchWorkersResponseSchema, {
      event: { case: "left", value: { worker, reason } },
    });
  }
  return create(WatchWorkersResponseSchema, { event: { case: event.kind, value: worker } });
}

function matching(filter: WorkerFilter, nowMs: number): (record: PresenceRecord) => boolean {
  const matches = workerMatcher(filter, nowMs);
  return (record) => record.worker !== undefined && matches(record.worker);
}

function byIdThenUser(a: Worker, b: Worker): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  const ua = a.user?.id ?? "";
  const ub = b.user?.id ?? "";
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * Groups stat items by key, in the order keys first appear, each with its aggregations in the
 * order asked (duplicates dropped). `aggregation` wins over its alias `category`; neither is avg.
 */
function metricRequests(items: readonly StatItem[]): MetricRequest[] {
  const byMetric = new Map<string, Aggregation[]>();
  items.forEach((item, index) => {
    if (!isMetricKey(item.key)) {
      throw invalidArgument(`items[${index}].key: unknown metric key ${quoteForMessage(item.key)}`);
    }
    const aggregation =
      item.aggregation !== Aggregation.UNSPECIFIED
        ? item.aggregation
        : item.category !== Aggregation.UNSPECIFIED
          ? item.category
          : Aggregation.AVG;
    const aggregations = byMetric.get(item.key) ?? [];
    if (!aggregations.includes(aggregation)) aggregations.push(aggregation);
    byMetric.set(item.key, aggregations);
  });
  return [...byMetric].map(([metric, aggregations]) => ({ metric, aggregations }));
}

function keyOf(ctx: CallContext, worker: string): WorkerKey {
  return { company: ctx.identity.company, user: ctx.identity.user, worker };
}
