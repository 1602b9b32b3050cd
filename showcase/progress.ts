// A one-line progress bar for the terminal (redrawn in place on a TTY, printed once when done otherwise).

/** A progress bar over `total` steps. */
export function progressBar(label: string, total: number): { tick(): void; done(): void } {
  let count = 0;
  const width = 30;
  const draw = () => {
    const filled = Math.round((count / total) * width);
    process.stdout.write(
      `\r${label} [${'█'.repeat(filled)}${'·'.repeat(width - filled)}] ${count}/${total}`,
    );
  };
  return {
    tick() {
      count++;
      if (process.stdout.isTTY) draw();
    },
    done() {
      draw();
      process.stdout.write('\n');
    },
  };
}
