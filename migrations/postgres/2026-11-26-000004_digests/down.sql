-- Digests cannot be turned back into the values: nothing to undo.
SELECT 1;
