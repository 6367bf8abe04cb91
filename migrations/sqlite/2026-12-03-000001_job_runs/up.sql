-- Periodic jobs that must run once per period however many servers share the database (the
-- reconciler): the first server to insert a period's row runs it; the others see the row and skip.
CREATE TABLE job_runs (
    job TEXT NOT NULL,
    period BIGINT NOT NULL,
    instance TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (job, period)
);
