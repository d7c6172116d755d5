-- Cognito's user import jobs, with the uploaded CSV file (as SQLite's 0007).
CREATE TABLE user_import_jobs (
    pool_id TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
    job_id  TEXT COLLATE "C" NOT NULL,
    created BIGINT NOT NULL,
    status  TEXT COLLATE "C" NOT NULL,
    data    TEXT NOT NULL,
    csv     BYTEA,
    PRIMARY KEY (pool_id, job_id)
);
CREATE UNIQUE INDEX user_import_jobs_by_id ON user_import_jobs (job_id);
CREATE INDEX user_import_jobs_by_created ON user_import_jobs (pool_id, created, job_id);
