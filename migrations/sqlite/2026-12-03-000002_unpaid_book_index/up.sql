-- The daily job reads the unpaid book in (due_date, id) order: only the unpaid installments, and
-- with the date each was last accrued to in the index, so a run that has nothing to do reads the
-- index alone.
CREATE INDEX installments_unpaid_book ON installments (due_date, id, penalty_date) WHERE status = 0;
