import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../http/app-env.js';
import { validQuery } from '../http/body.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import { isMonth } from '../usage/usage-meter.js';

const UsageQuerySchema = z.object({
  month: z
    .string()
    .refine(isMonth, (month) => ({ message: `"${month}" is not a month; use YYYY-MM, e.g. ${new Date().toISOString().slice(0, 7)}` }))
    .optional(),
});

/**
 * GET /api/admin/usage?month=YYYY-MM: paid tokens and their cost per developer
 * and day and per provider/model, with the budget's state (`budget.warning`
 * from warn_percent, `budget.exhausted` at 100 %). Mounted under /api/admin,
 * so it is as restricted as the rest of the admin API.
 */
export function usageRoutes(services: Services, logger: Logger): Hono<AppEnv> {
  // Services exist before the app and its logger; budget warnings go to the server log from here on.
  services.usage.setLogger(logger);
  return new Hono<AppEnv>().get('/usage', validQuery(UsageQuerySchema), (c) => c.json(services.usage.report(c.req.valid('query').month)));
}
