/** Whether a followed source (a log file, the journal) can be read now: what the judgments see of it. */
export type FollowHealth = 'ok' | 'missing' | 'unreadable' | 'error';
