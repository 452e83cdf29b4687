/**
 * The credentials in force, swapped whole when the file is re-read (SIGHUP), so a removed key stops
 * working at once; a bad file keeps the previous credentials.
 */
import { type CredentialSet, CredentialsError, loadCredentials } from "./credentials.js";

export type ReloadResult =
  | { readonly ok: true }
  | {
      readonly ok: false /** Why the file was refused; the old credentials stay. */;
      readonly reason: string;
    };

export class LiveCredentials {
  private constructor(
    readonly path: string,
    private set: CredentialSet,
  ) {}

  /** Loads the file; throws CredentialsError when it is missing or bad. */
  static async load(path: string): Promise<LiveCredentials> {
    return new LiveCredentials(path, await loadCredentials(path));
  }

  get current(): CredentialSet {
    return this.set;
  }

  /** Re-reads the file; on any problem keeps the credentials in force and says why. */
  async reload(): Promise<ReloadResult> {
    try {
      this.set = await loadCredentials(this.path);
      return { ok: true };
    } catch (error) {
      if (error instanceof CredentialsError) return { ok: false, reason: error.message };
      throw error;
    }
  }
}
