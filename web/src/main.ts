// The dashboard's entry: the page frame, the connection status, a hash router between the fleet,
// worker and activity views, and the one WatchWorkers stream that feeds them all.
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { activityView } from "./activity-view.js";
import { currentToken, forgetToken } from "./auth.js";
import { byId, setText } from "./dom.js";
import { FleetStore } from "./fleet-store.js";
import { fleetView, type View } from "./fleet-view.js";
import { type Connection, watchFleet } from "./watch.js";
import { workerView } from "./worker-view.js";

const store = new FleetStore();
const main = byId("main", HTMLElement);
const status = byId("connection", HTMLElement);
const signOut = byId("sign-out", HTMLButtonElement);
let view: View | undefined;

function route(): void {
  view?.destroy();
  const hash = location.hash.replace(/^#\/?/, "");
  const [page = "", ...rest] = hash.split("/");
  if (page === "worker" && rest.length > 0) {
    view = workerView(store, decodeURIComponent(rest.join("/")));
  } else if (page === "activity") {
    view = activityView(store);
  } else {
    view = fleetView(store);
  }
  for (const link of document.querySelectorAll<HTMLAnchorElement>("header nav a")) {
    const current = link.dataset.page === (page === "activity" ? "activity" : "fleet");
    link.classList.toggle("current", current);
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  main.replaceChildren(view.element);
  signOut.hidden = currentToken() === undefined;
}

function showConnection(connection: Connection): void {
  status.dataset.state = connection.state;
  switch (connection.state) {
    case "connecting":
      setText(status, "connecting…");
      status.title = "";
      break;
    case "live":
      setText(status, connection.reconnected ? "live · reconnected" : "live");
      status.title = `following muster since ${new Date(connection.since).toLocaleTimeString()}`;
      signOut.hidden = currentToken() === undefined;
      break;
    case "reconnecting":
      setText(status, `reconnecting (attempt ${connection.attempt})…`);
      status.title = connection.reason;
      break;
  }
  document.body.classList.toggle("stale", connection.state === "reconnecting");
}

signOut.addEventListener("click", () => {
  forgetToken();
  location.reload();
});
window.addEventListener("hashchange", route);
route();
watchFleet(store, showConnection);
// Tests measure the first screen from navigation to the first snapshot drawn.
store.subscribe(() => {
  if (performance.getEntriesByName("fleet-rendered").length === 0)
    performance.mark("fleet-rendered");
});
