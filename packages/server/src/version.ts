/** The server's version, as GET /api/auth/app_version reports it. */
export const SERVER_VERSION = '1.0.0';
