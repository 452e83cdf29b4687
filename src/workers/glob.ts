/**
 * ClearML's worker_pattern glob ("*" any run of characters, "?" exactly one) matched without a
 * regular expression: a regex such as ^.*a.*a.*b$ backtracks exponentially on a long id and would
 * freeze the event loop. This two-pointer matcher backtracks only to the last star seen, so it is
 * O(id × pattern) at worst.
 */
export function globMatcher(glob: string): (text: string) => boolean {
  // Code points, not UTF-16 units: "?" is one character even outside the BMP.
  const pattern = Array.from(glob);
  return (input) => matchGlob(pattern, Array.from(input));
}

function matchGlob(pattern: readonly string[], text: readonly string[]): boolean {
  let p = 0;
  let t = 0;
  // Where the last "*" was, and the text position it currently swallows up to.
  let star = -1;
  let starText = 0;
  while (t < text.length) {
    const ch = pattern[p];
    if (ch === "*") {
      star = p++;
      starText = t;
    } else if (ch !== undefined && (ch === "?" || ch === text[t])) {
      p++;
      t++;
    } else if (star >= 0) {
      // Let the last star take one more character and retry what follows it.
      p = star + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}
