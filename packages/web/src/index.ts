// What the server needs from this package: where the built UI is (`npm run build -w packages/web`).
import { fileURLToPath } from 'node:url';

/** The folder of the built single-page app, to be served at `/`. */
export const webDistDir: string = fileURLToPath(new URL('../dist', import.meta.url));
