import type { Knex } from 'knex';
import { unauthorized } from '../../../shared/src/errors.js';
import { findUserById } from '../../../shared/src/users.js';

/** The user a signed request acts for, read from the database (never from the request body). */
export interface Actor {
  id: number;
  username: string;
  isAdmin: boolean;
}

export async function loadActor(db: Knex, id: number): Promise<Actor> {
  const row = await findUserById(db, id);
  if (!row) throw unauthorized('unknown_user', 'Utilisateur inconnu.');
  return { id: Number(row.id), username: row.username, isAdmin: Boolean(row.is_admin) };
}
