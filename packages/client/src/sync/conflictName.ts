/**
 * The name of the copy that keeps a local edit which lost a race: `name (conflict, <device>,
 * <date>).ext` next to the file, so the user sees both and loses neither. A name already taken
 * (two conflicts of one file on one day) gets a counter: `… (conflict, laptop, 2026-12-03 2).ext`.
 */
export const conflictName = (
  path: string,
  deviceName: string,
  at: Date,
  taken: (candidate: string) => boolean = () => false,
): string => {
  const slash = path.lastIndexOf('/');
  const folder = path.slice(0, slash + 1);
  const file = path.slice(slash + 1);
  const dot = file.lastIndexOf('.');
  // A leading dot (".profile") is part of the name, not an extension.
  const stem = dot > 0 ? file.slice(0, dot) : file;
  const extension = dot > 0 ? file.slice(dot) : '';
  const device = deviceName.replace(/[/\\:*?"<>|\p{Cc}()]/gu, '_').trim() || 'device';
  const date = at.toISOString().slice(0, 10);
  for (let n = 1; ; n += 1) {
    const suffix = n === 1 ? date : `${date} ${n}`;
    const candidate = `${folder}${stem} (conflict, ${device}, ${suffix})${extension}`;
    if (!taken(candidate)) return candidate;
  }
};
