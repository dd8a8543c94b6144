import { DAYS, type TimeWindow } from './schema.js';

/** A time window compiled once: minutes since local midnight, a day bitmask, a zone reader. */
export interface CompiledWindow {
  /** True when `now` (epoch ms) falls inside the window. */
  contains(now: number): boolean;
  /** Local day and time of `now` in the window's zone, for traces (`mon 09:30 Europe/Paris`). */
  describe(now: number): string;
}

const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function minutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** Local weekday (0 = Sunday) and minute of day for `now` in `tz`. */
type Clock = (now: number) => { day: number; minute: number };

function clockFor(tz: string): Clock {
  if (tz === 'UTC' || tz === 'Etc/UTC') {
    return (now) => {
      const d = new Date(now);
      return { day: d.getUTCDay(), minute: d.getUTCHours() * 60 + d.getUTCMinutes() };
    };
  }
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
  return (now) => {
    let day = 0;
    let h = 0;
    let m = 0;
    for (const part of fmt.formatToParts(now)) {
      if (part.type === 'weekday') day = WEEKDAY[part.value] ?? 0;
      else if (part.type === 'hour') h = Number(part.value);
      else if (part.type === 'minute') m = Number(part.value);
    }
    return { day, minute: h * 60 + m };
  };
}

/**
 * Compiles `{days, from, to, tz}`. `to` is exclusive. When `to` is before `from` the window
 * runs overnight and belongs to the day it opens on: `fri 22:00–06:00` includes Saturday 02:00.
 */
export function compileWindow(w: TimeWindow): CompiledWindow {
  const from = minutes(w.from);
  const to = minutes(w.to);
  let mask = 0;
  for (const d of w.days ?? DAYS) mask |= 1 << DAYS.indexOf(d);
  const clock = clockFor(w.tz);
  const open = (day: number) => (mask & (1 << day)) !== 0;
  return {
    contains(now) {
      const { day, minute } = clock(now);
      if (from < to) return open(day) && minute >= from && minute < to;
      return (open(day) && minute >= from) || (open((day + 6) % 7) && minute < to);
    },
    describe(now) {
      const { day, minute } = clock(now);
      const hh = String(Math.floor(minute / 60)).padStart(2, '0');
      const mm = String(minute % 60).padStart(2, '0');
      return `${DAYS[day]} ${hh}:${mm} ${w.tz}`;
    },
  };
}
