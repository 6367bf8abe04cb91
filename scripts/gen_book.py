#!/usr/bin/env python3
"""Fills a migrated SQLite database with a loan book for the daily-job benchmark.

    target/release/cashloan migrate                       # CASHLOAN_DATABASE_URL=sqlite://book.db
    python3 scripts/gen_book.py book.db 1000000
    time target/release/cashloan batch --date 2026-06-15  # then run it again: idempotent

Writes N installments: disbursed 12-month loans of 12 000.00 at 18 % (1 000.00 principal +
180.00 interest a month), one borrower per loan, paid out on dates spread over the 12 months
before the benchmark date, so that the book holds installments paid, due soon, due today and
overdue by every number of days. Rows go straight into the tables the server uses.
"""
import datetime
import sqlite3
import sys
import uuid

PRODUCT = "0b7f6c2e-5d1a-4c4e-9f3a-2a8e7c1d9b10"
BENCH_DATE = datetime.date(2026, 6, 15)


def add_months(d, k):
    y, m = divmod(d.month - 1 + k, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return datetime.date(year, month, day)
        except ValueError:
            continue
    raise ValueError(d)


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA journal_mode = WAL")
    now = 1_790_000_000_000
    db.execute(
        "INSERT OR IGNORE INTO products (id, code, name, detail_description, third_service_code, amount_limit_type,"
        " single_min_amount_cents, single_max_amount_cents, rate_limit_type, rates, term_units, months_limit_type,"
        " months, repay_types, repay_term_units, penalty_rate, service_fee_rate, upfront_fee_rate, on_sale,"
        " display_order, created_at, updated_at) VALUES (?, 'PRODUCTBENCH', '分期贷', '', '', 0, 300000, 5000000,"
        " 1, '0.1800', '2', 1, '12', '3', '2', '0.1800', '0.0000', '0.0000', 1, 1, ?, ?)",
        (PRODUCT, now, now),
    )
    loans = (n + 11) // 12
    written = 0
    batch_users, batch_apps, batch_inst = [], [], []
    for k in range(loans):
        user = str(uuid.uuid4())
        app = str(uuid.uuid4())
        mobile = "1%010d" % (3_000_000_000 + k)
        start = BENCH_DATE - datetime.timedelta(days=(k * 7) % 365)
        batch_users.append((user, mobile, "x", 5_000_000, now, now))
        batch_apps.append((app, user, PRODUCT, "PRODUCTBENCH", "分期贷", "cash%s%06d" % (start.strftime("%Y%m%d"), k),
                           4, 1_200_000, 1_200_000, "0.1800", "0.1800", "0.0000", "0.0000", 12, "2", 1, "2", "3",
                           12, "2", "21", "01", "0", "0", "bench", "[]", now, now, start.isoformat(), now))
        prev = start
        for p in range(1, 13):
            if written == n:
                break
            due = add_months(start, p)
            paid = due < BENCH_DATE - datetime.timedelta(days=40)
            batch_inst.append((str(uuid.uuid4()), app, user, p, prev.isoformat(), due.isoformat(), 100_000, 18_000, 0,
                               1 if paid else 0))
            prev = due
            written += 1
        if len(batch_inst) >= 50_000 or k == loans - 1:
            db.executemany(
                "INSERT INTO users (id, mobile, password_hash, total_credit_cents, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)", batch_users)
            db.executemany(
                "INSERT INTO applications (id, user_id, product_id, product_code, product_name, loan_code, status,"
                " amount_cents, reply_amount_cents, interest_rate, penalty_rate, service_fee_rate, upfront_fee_rate,"
                " term_count, term_unit, repay_term_count, repay_term_unit, repay_type, auth_term_count,"
                " auth_term_unit, purpose, other_channels, longitude, latitude, order_id, phonebook, applied_at,"
                " disbursed_at, release_date, updated_at) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch_apps)
            db.executemany(
                "INSERT INTO installments (id, application_id, user_id, period, start_date, due_date,"
                " principal_cents, interest_cents, fee_cents, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch_inst)
            db.commit()
            batch_users, batch_apps, batch_inst = [], [], []
    db.commit()
    unpaid = db.execute("SELECT COUNT(*) FROM installments WHERE status = 0").fetchone()[0]
    print(f"{written} installments in {loans} loans ({unpaid} unpaid) for business date {BENCH_DATE}")


if __name__ == "__main__":
    main()
