import type { ParameterSpec, ParamValue } from './schema.ts';

/**
 * Parameters every algorithm shares (the contract's common patch parameters plus the engine's own).
 * Ids are `base + offset`, so each algorithm keeps stable `algorithm_parameter_id`s; an algorithm's own
 * parameters start at `base + 20`.
 */
export type SharedParameterName =
  | 'train_size' | 'min_inspection_size' | 'min_inspection_step' | 'min_detected_area'
  | 'anomaly_magnification' | 'ignore_outer' | 'threshold' | 'anomaly_range' | 'working_size' | 'seed' | 'tile_size';

export const PREDICTION_PARAMETERS: readonly SharedParameterName[] =
  ['min_detected_area', 'anomaly_magnification', 'ignore_outer', 'threshold', 'anomaly_range'];

export function sharedParameters(base: number, defaults: Partial<Record<SharedParameterName, ParamValue>> = {}): ParameterSpec[] {
  const d = <T extends ParamValue>(name: SharedParameterName, fallback: T): ParamValue => (name in defaults ? defaults[name]! : fallback);
  return [
    {
      id: base + 0, name: 'train_size', type: 'int', default: d('train_size', 10000), min: 1, max: 1_000_000, autoTune: null, modelParameter: true,
      description: { en: 'Number of patches sampled from the training images.', ja: '学習画像からサンプリングするパッチの数。' },
      effect: { en: 'More: slower training, steadier model.', ja: '多いほど学習は遅く、モデルは安定します。' },
    },
    {
      id: base + 1, name: 'min_inspection_size', type: 'tuple', length: 2, elementType: 'int', default: d('min_inspection_size', [8, 8]), min: 2, max: 256, autoTune: null, modelParameter: true,
      description: { en: 'Patch size (width, height) in working-resolution pixels.', ja: 'パッチの大きさ（幅, 高さ、作業解像度のピクセル）。' },
      effect: { en: 'Larger patches see larger defects and cost more time.', ja: '大きいほど大きな欠陥を捉え、時間がかかります。' },
    },
    {
      id: base + 2, name: 'min_inspection_step', type: 'int', default: d('min_inspection_step', 4), min: 1, max: 256, autoTune: null, modelParameter: true,
      description: { en: 'Stride between patches in working-resolution pixels.', ja: 'パッチ間の間隔（作業解像度のピクセル）。' },
      effect: { en: 'Smaller: finer maps, slower.', ja: '小さいほど細かく、遅くなります。' },
    },
    {
      id: base + 3, name: 'min_detected_area', type: 'float', default: d('min_detected_area', null), min: 0, autoTune: null, modelParameter: false,
      description: { en: 'Smallest defect box reported, in pixels of the original image (area). Empty: report all.', ja: '報告する欠陥の最小面積（元画像のピクセル）。空欄ならすべて報告。' },
      effect: { en: 'Larger: fewer small false alarms, may miss small defects.', ja: '大きいほど小さな誤検出が減り、小さな欠陥を見逃すことがあります。' },
    },
    {
      id: base + 4, name: 'anomaly_magnification', type: 'tuple', length: 2, elementType: 'int', default: d('anomaly_magnification', [1, 1]), min: 1, max: 64, autoTune: null, modelParameter: false,
      description: { en: 'Dilation (width, height) of the anomaly map so that small defects show, in working pixels.', ja: '小さな欠陥が見えるように異常マップを膨張させる大きさ（幅, 高さ）。' },
    },
    {
      id: base + 5, name: 'ignore_outer', type: 'tuple', length: 2, elementType: 'int', default: d('ignore_outer', [0, 0]), min: 0, autoTune: null, modelParameter: false,
      description: { en: 'Border (x, y) ignored on each side, in pixels of the original image.', ja: '無視する外周の幅（x, y、元画像のピクセル）。' },
    },
    {
      id: base + 6, name: 'threshold', type: 'float', default: d('threshold', null), min: 0, autoTune: null, modelParameter: false,
      description: {
        en: 'Anomaly threshold on the calibrated score (1.0 ≈ the 99.9th percentile of pixels of held-out OK images). Empty: chosen in training (best F1 with NG images, else the 90th percentile of OK image scores, held out and in-sample weighed .632 / .368).',
        ja: '校正済みスコアに対する異常しきい値（1.0 ≈ 検証用OK画像の画素の99.9パーセンタイル）。空欄なら学習時に自動決定（NG画像があれば最良F1、なければOK画像スコアの90パーセンタイル：検証用と学習用を .632 / .368 で加重）。',
      },
      effect: { en: 'Lower: more NG verdicts (fewer misses, more false alarms).', ja: '低いほどNG判定が増えます（見逃し減、誤検出増）。' },
    },
    {
      id: base + 7, name: 'anomaly_range', type: 'tuple', length: 2, elementType: 'float', default: d('anomaly_range', [0, 1]), min: 0, autoTune: null, modelParameter: false,
      description: { en: 'Heatmap colour range (low, high) as fractions of twice the threshold.', ja: 'ヒートマップの色の範囲（下限, 上限、しきい値の2倍に対する割合）。' },
    },
    {
      id: base + 8, name: 'working_size', type: 'int', default: d('working_size', 256), min: 32, max: 4096, autoTune: null, modelParameter: true,
      description: { en: 'Longest side, in pixels, that images are reduced to before inspection (the aspect ratio is kept).', ja: '検査前に画像を縮小する長辺のピクセル数（縦横比は維持）。' },
      effect: { en: 'Larger: finds smaller defects, slower.', ja: '大きいほど小さな欠陥を見つけ、遅くなります。' },
    },
    {
      id: base + 9, name: 'seed', type: 'int', default: d('seed', 0), min: 0, max: 2 ** 31 - 1, autoTune: null, modelParameter: true,
      description: { en: 'Random seed: the same seed and data give the same model.', ja: '乱数シード。同じシードとデータなら同じモデルになります。' },
    },
    {
      id: base + 10, name: 'tile_size', type: 'int', default: d('tile_size', 0), min: 0, max: 16384, autoTune: null, modelParameter: true,
      description: {
        en: 'Tiling of large images: side, in original pixels, of overlapping tiles each inspected at working_size (0: off, the whole image is reduced to working_size).',
        ja: '大きな画像のタイル分割：重なり合うタイルの一辺（元画像のピクセル）。各タイルを作業解像度で検査します（0：分割なし）。',
      },
      effect: { en: 'Set it near working_size (or a few times it) to find defects of a few pixels in large photos; slower in proportion to the number of tiles.', ja: '大きな写真の数ピクセルの欠陥を見つけるには作業解像度に近い値に。タイル数に比例して遅くなります。' },
    },
  ];
}
