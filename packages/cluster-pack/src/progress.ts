/** One step of `uploadEnv`/`packEnv`: reading the environment, writing the archive, sending it to the store. */
export type Phase = "inspect" | "pack" | "upload";

export interface ProgressEvent {
  phase: Phase;
  transferredBytes: number;
  /** Known for uploads and for a finished pack. */
  totalBytes?: number;
  /** What is being worked on: the archive, an editable zip, the metadata. */
  target?: string;
}

export type ProgressListener = (event: ProgressEvent) => void;
