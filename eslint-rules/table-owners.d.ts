// Types of table-owners.js for the TypeScript tests that read the map.
export type TableOwner = 'web' | 'transactions' | 'shared';
export const TABLE_OWNERS: Readonly<Record<string, { owner: TableOwner; readers?: string[]; instead?: string }>>;
export const KNEX_TABLES: readonly string[];
