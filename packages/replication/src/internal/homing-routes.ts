// The admin endpoints of moves, on every home (a home is a move's source or target depending on the move): the
// table PROTOCOL.md's "Moving a user" lists, in one place so HomeService adds them with one line.
import type { Route } from '../wire.js'
import type { HomeContext } from './home-context.js'
import { handleFreeze, handleMoved, handleStateHash, handleUnfreeze, handleUserRecord } from './move-source.js'
import { handleAbandon, handleActivate, handleMoveStatus, handleReserve, handleWait } from './move-target.js'

const BODY = 16 * 1024

/** The move endpoints of a home. */
export function homingRoutes(ctx: HomeContext): Route[] {
  const post = (path: string, handler: Route['handler']): Route => ({ method: 'POST', path, bodyLimit: BODY, handler })
  return [
    { method: 'GET', path: '/v1/admin/users/:user', handler: (r) => handleUserRecord(ctx, r) },
    { method: 'GET', path: '/v1/admin/users/:user/state-hash', handler: (r) => handleStateHash(ctx, r) },
    { method: 'GET', path: '/v1/admin/moves/:user', handler: (r) => handleMoveStatus(ctx, r) },
    post('/v1/admin/moves/:user/freeze', (r) => handleFreeze(ctx, r)),
    post('/v1/admin/moves/:user/unfreeze', (r) => handleUnfreeze(ctx, r)),
    post('/v1/admin/moves/:user/moved', (r) => handleMoved(ctx, r)),
    post('/v1/admin/moves/:user/reserve', (r) => handleReserve(ctx, r)),
    post('/v1/admin/moves/:user/wait', (r) => handleWait(ctx, r)),
    post('/v1/admin/moves/:user/activate', (r) => handleActivate(ctx, r)),
    post('/v1/admin/moves/:user/abandon', (r) => handleAbandon(ctx, r)),
  ]
}
