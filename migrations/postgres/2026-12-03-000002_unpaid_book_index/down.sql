DROP INDEX installments_unpaid_book;
