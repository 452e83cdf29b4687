// The sign-in form, shown over the page when muster answers Unauthenticated. Every call that hit
// it waits on the same promise, so one form serves them all.
import { SignInError, signIn } from "./auth.js";
import { h } from "./dom.js";

let pending: Promise<void> | undefined;

/** Shows the form (once, however many callers ask) and resolves when the user is signed in. */
export function askToSignIn(): Promise<void> {
  pending ??= new Promise<void>((resolve) => {
    const error = h("p", { class: "form-error", role: "alert", id: "sign-in-error" });
    const accessKey = h("input", {
      id: "access-key",
      name: "access_key",
      autocomplete: "username",
      required: true,
      spellcheck: "false",
    });
    const secretKey = h("input", {
      id: "secret-key",
      name: "secret_key",
      type: "password",
      autocomplete: "current-password",
      required: true,
    });
    const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
    const form = h(
      "form",
      { class: "sign-in", id: "sign-in" },
      h("h2", {}, "Sign in to muster"),
      h("p", { class: "muted" }, "Use an access key and secret key from muster's credentials."),
      h("label", { for: "access-key" }, "Access key"),
      accessKey,
      h("label", { for: "secret-key" }, "Secret key"),
      secretKey,
      error,
      submit,
    );
    const overlay = h("div", { class: "overlay" }, form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit.disabled = true;
      error.textContent = "";
      signIn(accessKey.value.trim(), secretKey.value).then(
        () => {
          overlay.remove();
          pending = undefined;
          resolve();
        },
        (e: unknown) => {
          submit.disabled = false;
          error.textContent = e instanceof SignInError ? e.message : String(e);
          secretKey.select();
        },
      );
    });
    document.body.append(overlay);
    accessKey.focus();
  });
  return pending;
}
