/**
 * Standard output read by a program that may stop reading early (`faultline analyze --json |
 * head`). Writing to the closed pipe fails with EPIPE, which node reports as an unhandled error,
 * stack trace and all. A reader that stopped is not a failure of ours: what is left to print is
 * dropped, the command's work is kept (analyze and export have stored or read everything by the
 * time they print; sniff goes on until its limits or Ctrl-C, committing as usual) and the exit
 * status stays what the command makes it. Any other error on standard output is one line and
 * exit status 1.
 */
export function watchStdout(stream: NodeJS.WriteStream = process.stdout): void {
  /** Set once the reader went away: the failures of later writes are that one. */
  let closed = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (closed) return;
    if (e.code === 'EPIPE') {
      closed = true;
      return;
    }
    process.stderr.write(`faultline: cannot write to standard output: ${e.message}\n`);
    process.exit(1);
  });
}
