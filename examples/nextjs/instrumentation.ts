/**
 * Starts the embedded database when the server starts, so the first visitor does not wait for PGlite to boot.
 */
export async function register(): Promise<void> {
  if (process.env['NEXT_RUNTIME'] !== 'nodejs') return
  const { database } = await import('./lib/database')
  database().catch((error: unknown) => console.error('live-shapes example: the database did not start', error))
}
