// Per-job control for tests and operators: force a job to FAILED, hold it (hang) and let it go,
// and the checkpoint a running job passes regularly to honour those requests and emulator stop.

/** Thrown at a checkpoint to end a job with FAILED and this message. */
export class ForcedFailure extends Error {
  override readonly name = 'ForcedFailure';
}

/** Thrown at a checkpoint when the emulator stops: the job stays IN_PROGRESS and resumes on restart. */
export class EmulatorStopping extends Error {
  override readonly name = 'EmulatorStopping';
}

export interface JobControl {
  /** Resolves when the job may go on; throws ForcedFailure or EmulatorStopping when it must end. */
  checkpoint(): Promise<void>;
  fail(message: string): void;
  hang(): void;
  release(): void;
  stop(): void;
  readonly hung: boolean;
}

export function createJobControl(): JobControl {
  let failure: string | undefined;
  let stopping = false;
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  const control: JobControl = {
    async checkpoint() {
      while (gate && failure === undefined && !stopping) await gate.promise;
      if (stopping) throw new EmulatorStopping('emulator stopping');
      if (failure !== undefined) throw new ForcedFailure(failure);
    },
    fail(message) {
      failure = message;
      control.release();
    },
    hang() {
      if (gate) return;
      let open = (): void => undefined;
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = { promise, open };
    },
    release() {
      const current = gate;
      gate = undefined;
      current?.open();
    },
    stop() {
      stopping = true;
      control.release();
    },
    get hung() {
      return gate !== undefined;
    },
  };
  return control;
}
