/**
 * What a training reports beside its progress fraction: ids, not sentences, so that whoever shows progress words it
 * in the reader's language (the server maps every stage to a catalogue message; a log may print the id).
 */

/** Steps an algorithm reports while it trains (the engine reports them as stages of training the final model). */
export type AlgorithmStep =
  | 'patch-features'
  | 'sampling-patches'
  | 'learning-dictionary'
  | 'choosing-resolution'
  | 'normalising'
  | 'placement'
  /** Values: `bank` (the patches it keeps), `candidates` (the patches it chooses them among). */
  | 'memory-bank'
  | 'neighbour-index'
  | 'growing-trees'
  | 'solving-svm'
  | 'scoring-patches'
  /** Values: `epoch`, `epochs`, `loss`, `heldOutLoss`. */
  | 'epoch';

export type TrainingStage =
  | 'decoding'
  /** AutoTune trying a candidate. Values: `parameter`, `candidate` (its JSON). */
  | 'tuning'
  | 'calibrating'
  /** The final model, while its algorithm names no step of its own. */
  | 'training'
  | AlgorithmStep
  | 'done';

/** The numbers or names a stage carries (see each stage); language-neutral, rendered into the stage's wording. */
export type StageValues = Readonly<Record<string, string | number>>;

export type TrainingProgressReport = (fraction: number, stage: TrainingStage, values?: StageValues) => void;
