import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';

/** Clock ticks per second of /proc's utime and stime: USER_HZ, 100 on every Linux build in use. */
const TICKS_PER_SECOND = 100;

/**
 * CPU time of the PostgreSQL backends serving one server (by `application_name`, or all of its
 * database's), read from /proc:
 * a server that has the database do more of the work looks cheaper by its own CPU alone, so the
 * bench counts both. Null when the backends' /proc entries are not readable (a remote database).
 */
export async function backendCpuMs(db: DataSource, applicationName?: string): Promise<Map<number, number> | null> {
  // Without a name: every backend of the server's database (a bench with one server per database).
  // The backend running this query is counted too: which pooled connection runs it changes from
  // one reading to the next, and leaving it out made a connection that sat out the first reading
  // count its whole lifetime (the data generation's, tens of seconds) as used in between.
  const rows: Array<{ pid: number }> = applicationName === undefined
    ? await db.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
    : await db.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [applicationName]);
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      // Fields after the command name, which is in parentheses and may contain spaces.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu.set(pid, ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000);
    } catch {
      return null;
    }
  }
  return cpu;
}

/** CPU the backends used between two readings; a backend that started in between counts from zero. */
export function backendCpuUsed(before: Map<number, number> | null, after: Map<number, number> | null): number | null {
  if (!before || !after) return null;
  let used = 0;
  for (const [pid, ms] of after) used += ms - (before.get(pid) ?? 0);
  return used;
}

/** The same database URL with an `application_name`, so the server's backends can be told apart. */
export function withApplicationName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}
