// Saving text the page made (a CSV, a JSON export) as a file, through the browser's download.

/** Offers `text` as a download named `name`. */
export function downloadText(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // Long enough for the download to have read it.
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
