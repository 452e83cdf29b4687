// The session's token: fetched from muster's ClearML-style auth.login with an access key and secret,
// kept in sessionStorage (gone when the tab closes), and sent as a Bearer token on every RPC.

const STORAGE_KEY = "muster.token";

export function currentToken(): string | undefined {
  return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
}

export function forgetToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** A sign-in refused by muster or failed on the way; the message is for the user. */
export class SignInError extends Error {}

/** Exchanges the key pair for a token and keeps it; throws SignInError saying why it failed. */
export async function signIn(accessKey: string, secretKey: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch("/auth.login", {
      headers: { Authorization: `Basic ${base64(`${accessKey}:${secretKey}`)}` },
      cache: "no-store",
    });
  } catch {
    throw new SignInError("muster cannot be reached");
  }
  const body: unknown = await response.json().catch(() => undefined);
  const token = field(field(body, "data"), "token");
  if (response.status === 401) throw new SignInError("Wrong access key or secret key.");
  if (!response.ok || typeof token !== "string" || token === "") {
    const message = field(field(body, "meta"), "result_msg");
    throw new SignInError(
      typeof message === "string" && message !== ""
        ? message
        : `sign-in failed (HTTP ${response.status})`,
    );
  }
  sessionStorage.setItem(STORAGE_KEY, token);
}

/** Base64 of the UTF-8 bytes: btoa alone refuses characters beyond Latin-1. */
function base64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}
