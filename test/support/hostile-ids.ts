/** Worker ids that break naive key, tag and subject encodings; every store must keep them exact. */
export const HOSTILE_IDS = [
  "host:gpu0,1",
  "with space",
  "ünïcødé-工作者",
  "dots.and*stars>",
  'quote"back\\slash',
  "slash/and=equals",
  "",
  ".",
  "..",
  "*",
  ">",
  "tab\there",
  "new\nline",
  "😀",
  "=",
  "-_",
];
