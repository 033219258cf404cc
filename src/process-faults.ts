/**
 * What the process does with a failure nothing else caught (main.ts installs it).
 * - An unhandled promise rejection is a bug in whatever dropped the promise, but the work that
 *   promise belonged to has already failed: the process is otherwise as it was, so it logs the
 *   rejection under an error id and keeps serving (Node's default would end it, and with it every
 *   in-flight request, for one lost promise).
 * - An uncaught exception unwound a stack halfway: state that code was changing (a counter, a lease,
 *   a half-written queue) may be inconsistent, and nothing says which. The process logs it under an
 *   error id and exits with status 1, for the supervisor to start a clean one. Acknowledged captures
 *   are already committed (an answer waits for its commit), so exiting loses none.
 */
import { type Logger, logUnexpected } from './logger.ts';

/** the exit status after an uncaught exception */
export const UNCAUGHT_EXCEPTION_EXIT_CODE = 1;

export function installProcessFaultHandlers(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    logUnexpected(logger, 'unhandled promise rejection (serving on)', reason);
  });
  process.on('uncaughtException', (error, origin) => {
    logUnexpected(logger, 'uncaught exception: exiting for a restart', error, { origin });
    // stderr is written synchronously (a file or a pipe), so the line is out before the exit
    process.exit(UNCAUGHT_EXCEPTION_EXIT_CODE);
  });
}
