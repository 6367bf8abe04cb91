//! Cost of parsing and verifying a typical signed request (the §23 application body).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cashloan_protocol::{parse, verify, Json};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

const BODY: &str = r#"{"nonce":"30918475","sign":"0000000000000000000000000000000000000000","timestamp":"1511232391000","productId":"4feae5b5-0a5f-449a-aa96-9b6584b59440","amount":"2000.00","termCount":"7","termUnit":"1","repayTermCount":"7","repayTermUnit":"1","repayType":"1","interestRate":"0.3600","longitude":"116.31","latitude":"39.98","orderId":"201701012236523","purpose":"21","otherChannels":"01","phonebookList":[{"contactName":"木木","contactPhone":"13940460755"},{"contactName":"张三","contactPhone":"13800000000","remark":"同事"}]}"#;

fn bench(c: &mut Criterion) {
    c.bench_function("parse + verify §23 body", |b| {
        b.iter(|| {
            let Json::Object(map) = parse(black_box(BODY.as_bytes())).unwrap() else {
                unreachable!()
            };
            black_box(verify("12345678", &map))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
