/** The engine's version, written into every model. */
export const ENGINE_VERSION = '0.1.0';
