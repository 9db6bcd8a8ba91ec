import { quantile } from '../../calibration/quantile.ts';
import { middleMargin, type Raster } from '../../image/raster.ts';
import { buildKnnIndex, searchKnn } from '../../kernels/knn.ts';
import { Random } from '../../kernels/random.ts';
import { gaussianBlur } from '../../postprocess/filters.ts';
import { fitPca } from '../../kernels/pca.ts';
import { featureStatistics, finishRows, makeProjection, rawDescriptors, type DescriptorSettings } from './descriptors.ts';

/**
 * A held-out check that decides, from the training images alone, feature settings that differ between products (per-image
 * normalisation). A probe is a small PS without the coreset: half of a few training images give a random bank of
 * standardised patches, and the other half is scored against it, both halves in turn. Its *sensitivity* is how far apart
 * two patches of one good image typically are (median), over what whole good images reach (the 90th percentile of their
 * largest smoothed distance to the bank, inside the image): a defect that changes a patch as much as a good surface
 * varies within itself is found when that clears the good images' maxima. It is scale-free, so settings whose features
 * differ in scale compare fairly; and what varies between good images (exposure) raises only the maxima.
 * (Synthetic defects made from the images were tried as the judge first: they were found by every setting alike on
 * some products and by none on others, so they chose by noise.)
 */
export interface ProbeOptions {
  /** Training images the probe uses at most (drawn by the seed). */
  images: number;
  /** Bank patches per half. */
  bankSize: number;
  /** Smoothing of the patch scores, in grid steps (as PS's maps). */
  smoothing: number;
  seed: number;
}

/** Training images read one at a time (a streaming source decodes or makes each one when it is read). */
export interface RasterSource {
  count: number;
  get(index: number): Promise<Raster>;
}

export const DEFAULT_PROBE: Omit<ProbeOptions, 'seed'> = { images: 24, bankSize: 4000, smoothing: 2 };

/** Share of the patch grid left out at each side when the probe takes an image's maximum (borders are calibrated apart). */
const BORDER_SHARE = 0.15;

/**
 * What the probe measures of one settings: its `sensitivity` (above), and the bank's `coverage`: how far a held-out good
 * patch lies from its nearest bank patch, in units of how far apart two patches of its own image typically are (the
 * median of each, then the median over the held-out images). Near 0 where good patches repeat (board layouts, a part's
 * outline: the bank holds their likeness); a sizeable share of the unit where every patch of the surface is its own (a
 * stochastic texture: the finest detail is new in every image).
 */
export interface ProbeMeasures { sensitivity: number; coverage: number }

/** The probe's measures of each candidate settings (same order), or null when there are too few images for halves. */
export async function probeMeasures(rasters: RasterSource, candidates: DescriptorSettings[], options: ProbeOptions): Promise<ProbeMeasures[] | null> {
  if (rasters.count < 4) return null;
  const chosen: Raster[] = [];
  for (const i of new Random(options.seed + 41).sample(rasters.count, options.images).sort((a, b) => a - b)) chosen.push(await rasters.get(i));
  return candidates.map((settings) => {
    const described = chosen.map((r) => rawDescriptors(r, settings));
    const withinImage: number[] = [], imageMaxima: number[] = [], coverages: number[] = [];
    for (let half = 0; half < 2; half++) {
      const bankImages = described.filter((_, i) => i % 2 !== half);
      const dims = bankImages[0].dims;
      const pool = new Float32Array(bankImages.reduce((s, d) => s + d.data.length, 0));
      let o = 0;
      for (const d of bankImages) { pool.set(d.data, o); o += d.data.length; }
      const { mean, scale } = featureStatistics(pool, dims);
      const standardise = (data: Float32Array) => data.map((v, i) => (v - mean[i % dims]) * scale[i % dims]);
      const picks = new Random(options.seed + half).sample(pool.length / dims, options.bankSize);
      const bank = new Float32Array(picks.length * dims);
      picks.forEach((p, i) => bank.set(pool.subarray(p * dims, p * dims + dims), i * dims));
      // Standardised, then turned onto the bank's principal axes, as PS's own descriptors are: a rotation keeps every
      // distance (up to rounding), and the search stops early on the leading coordinates (the probes ran ~3× longer
      // on the standardised features alone).
      const rotation = makeProjection(mean, scale, fitPca(standardise(bank), dims), dims);
      const describe = (data: Float32Array) => finishRows(data, null, rotation, 0);
      const index = buildKnnIndex(describe(bank), dims);
      described.forEach((d, i) => {
        if (i % 2 !== half) return;
        const own = describe(d.data);
        const { distances } = searchKnn(index, own, 1);
        const grid = { width: d.grid.columns, height: d.grid.rows, data: distances.map(Math.sqrt) };
        // The unit: how far apart two patches of the same good image typically are (its own variety, untouched by
        // what differs between images, such as exposure).
        const count = own.length / dims, random = new Random(options.seed + i);
        const pairs: number[] = [];
        for (let pair = 0; pair < 200; pair++) {
          const a = random.int(count) * dims, b = random.int(count) * dims;
          let sum = 0;
          for (let j = 0; j < dims; j++) sum += (own[a + j] - own[b + j]) ** 2;
          pairs.push(Math.sqrt(sum));
        }
        withinImage.push(...pairs);
        coverages.push(quantile(grid.data, 0.5) / Math.max(quantile(pairs, 0.5), 1e-9));
        const smooth = options.smoothing > 0 ? gaussianBlur(grid, options.smoothing, 'normalised') : grid;
        let max = 0;
        for (let gy = Math.floor(grid.height * BORDER_SHARE); gy < Math.ceil(grid.height * (1 - BORDER_SHARE)); gy++) {
          for (let gx = Math.floor(grid.width * BORDER_SHARE); gx < Math.ceil(grid.width * (1 - BORDER_SHARE)); gx++) max = Math.max(max, smooth.data[gy * grid.width + gx]);
        }
        imageMaxima.push(max);
      });
    }
    return { sensitivity: quantile(withinImage, 0.5) / Math.max(quantile(imageMaxima, 0.9), 1e-9), coverage: quantile(coverages, 0.5) };
  });
}

/**
 * How the lightness of the OK shots differs (`lightnessSpread`): `exposure`, how far the images' median lightness lies
 * from the images' median of it (median over images), in units of what one image spreads within itself (the images'
 * median MAD; 0 when that MAD is 0: flat or two-valued images, which a per-image normalisation cannot scale). Then
 * whether that is exposure: `profiles` and `normalisedProfiles` are how far the images' lightness quantiles (5th–95th,
 * but the median) lie from the images' median of each (median over images and quantiles), first in units of the typical
 * MAD, then each image's own after its own median and MAD are taken out.
 */
export interface LightnessSpread { exposure: number; profiles: number; normalisedProfiles: number }

const PROFILE_QUANTILES = [0.05, 0.1, 0.25, 0.75, 0.9, 0.95];

/**
 * `LightnessSpread` of `images` OK images, every other pixel of the middle of each frame (a quarter of its shorter side
 * from every border), where the product lies: a background of each shot's own, such as the corners of turned copies
 * filled with a colour of their own, must not count as exposure. Exposure that varies between shots moves each image's
 * median by more than its own spread (magnetic tiles 2.55–2.97 by the seed and scale, 64 images at 512 px); a part whose
 * share of the photo varies, or a steady light, moves it by little (cookies 0.19–0.22, metal surfaces 0.04–0.05; boards
 * 0). The held-out probe that decided it before chose by its seed on the tiles (none/robust sensitivity 0.89–1.75), and
 * robust was worth 0.63 → 0.72 image AUROC there. And an exposure change (a gain and an offset) moves every quantile
 * alike, so taking each image's median and MAD out makes the shots' quantiles agree (tiles: 2.2–3.1 → 0.14–0.19); a
 * background that reaches into the middle does not. Measured over the whole frame, the turned cookies' corners made a
 * spread of 3.1, and normalising by it cost them 0.898 → 0.407 image AUROC; the turned bsdata's, 1.0 (0.873 → 0.717).
 * In the middle: 0.26–0.31 and 0.06–0.08 (`bench/dataset-variants.ts` makes the turned copies).
 */
export async function lightnessSpread(rasters: RasterSource, images: number, seed: number): Promise<LightnessSpread> {
  const medians: number[] = [], spreads: number[] = [], profiles: number[][] = [];
  for (const i of new Random(seed + 43).sample(rasters.count, Math.min(images, rasters.count))) {
    const raster = await rasters.get(i);
    const { width, height, channels, data } = raster;
    // The middle of the frame, where the product lies (as `meanGain` measures calibration there).
    const margin = middleMargin(width, height);
    const lightness = new Float32Array(Math.ceil((width - 2 * margin) / 2) * Math.ceil((height - 2 * margin) / 2));
    let n = 0;
    for (let y = margin; y < height - margin; y += 2) {
      for (let x = margin; x < width - margin; x += 2) {
        const o = (y * width + x) * channels;
        lightness[n++] = channels >= 3 ? (data[o] + data[o + 1] + data[o + 2]) / 3 : data[o];
      }
    }
    const median = quantile(lightness, 0.5);
    medians.push(median);
    spreads.push(quantile(lightness.map((v) => Math.abs(v - median)), 0.5));
    profiles.push(PROFILE_QUANTILES.map((q) => quantile(lightness, q)));
  }
  const typicalSpread = quantile(spreads, 0.5);
  if (!(typicalSpread > 0)) return { exposure: 0, profiles: 0, normalisedProfiles: 0 };
  const centre = quantile(medians, 0.5);
  // Images without a spread of their own have no normalised profile: left out of both.
  const scaled = profiles.map((_, i) => i).filter((i) => spreads[i] > 0);
  return {
    exposure: quantile(medians.map((m) => Math.abs(m - centre)), 0.5) / typicalSpread,
    profiles: profileDispersion(scaled.map((i) => profiles[i].map((v) => v / typicalSpread))),
    normalisedProfiles: profileDispersion(scaled.map((i) => profiles[i].map((v) => (v - medians[i]) / spreads[i]))),
  };
}

/** How far images' quantile profiles lie from the images' median of each quantile: the median over images and quantiles. */
function profileDispersion(profiles: number[][]): number {
  if (profiles.length === 0) return 0;
  const typical = PROFILE_QUANTILES.map((_, k) => quantile(profiles.map((p) => p[k]), 0.5));
  return quantile(profiles.flatMap((p) => p.map((v, k) => Math.abs(v - typical[k]))), 0.5);
}

/** Whether the shots' lightness differs by exposure: by at least `tolerance` of an image's own spread, and such that normalising each image makes their quantiles agree better. */
export function exposureVaries(spread: LightnessSpread, tolerance: number): boolean {
  return spread.exposure >= tolerance && spread.normalisedProfiles < spread.profiles;
}
