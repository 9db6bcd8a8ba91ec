/** @kensa/engine: images in; anomaly maps, boxes, scores and verdicts out. Pure computation. */
export * from './engine.ts';
export * from './image/decode.ts';
export * from './image/exif.ts';
export * from './image/raster.ts';
export * from './params/schema.ts';
export * from './params/shared.ts';
export * from './algorithms/types.ts';
export { ALGORITHMS, DEFAULT_ALGORITHM_ID, getAlgorithm, UnknownAlgorithmError } from './algorithms/registry.ts';
export * from './metrics/index.ts';
export * from './render/index.ts';
export { ModelFormatError } from './model/blob.ts';
export type { Calibration } from './calibration/calibrate.ts';
export { detect, type DetectedBox, type Detection, type DetectionSettings } from './postprocess/detect.ts';
export { ENGINE_VERSION } from './version.ts';
export * from './benchmark/mvtec.ts';
export * from './samples/index.ts';
export * from './benchmark/suite.ts';
export * from './benchmark/copies.ts';
