// `capacity:` (issue #23): how often the `capacity-sampler` lease holder samples database sizes,
// disk use and Redis memory into the state database, how far ahead "projected full" warns, and
// which extra folders' disks are watched (the databases', the backups' and the state folder's always are).

import { z } from 'zod';
import { DAY, duration, HOUR, MINUTE } from './fields.js';

const capacityFields = z
  .strictObject({
    /** How often a sample is taken (by the monitor holding the `capacity-sampler` lease). */
    sample_every: duration(15 * MINUTE, { min: 1_000, max: 7 * DAY, why: 'how often capacity is sampled' }),
    /** A disk or Redis projected full within this warns (check `capacity:disk:<mount>`, `capacity:redis:<name>`). */
    horizon: duration(14 * DAY, { min: HOUR, max: 3650 * DAY, why: 'how far ahead "projected full" warns' }),
    /** The samples the fit uses: those of this last stretch of time. */
    window: duration(30 * DAY, { min: MINUTE, max: 3650 * DAY, why: 'the stretch of samples the projection is fitted on' }),
    /** Samples before a projection is made. */
    min_samples: z.number().int().min(2).max(1000).default(6),
    /** Samples older than this are deleted. */
    keep: duration(400 * DAY, { min: DAY, max: 3650 * DAY, why: 'how long capacity samples are kept' }),
    /** More folders whose file systems are watched (relative to the configuration file's folder). */
    paths: z.array(z.string().min(1)).default(['/']),
  })
  .refine((c) => c.window > c.sample_every, { message: 'expected window longer than sample_every (the fit needs several samples)', path: ['window'] });

export const capacitySchema = capacityFields.default(() => capacityFields.parse({}));

export type CapacityConfig = z.output<typeof capacityFields>;
