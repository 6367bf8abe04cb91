//! The diesel schema, mirroring `migrations/*/2026-11-25-000001_initial/up.sql`.
//!
//! Kept by hand (no diesel CLI here); the `schema_matches_the_migration` test checks each table
//! against the database after migrating.

#![allow(missing_docs)]

diesel::table! {
    users (id) {
        id -> Text,
        mobile -> Text,
        password_hash -> Text,
        failed_logins -> Integer,
        locked_until -> Nullable<BigInt>,
        disabled -> Bool,
        is_risk -> Bool,
        total_credit_cents -> BigInt,
        real_name_auth -> Bool,
        bank_card_auth -> Bool,
        customer_info_auth -> Bool,
        mobile_auth -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        data_version -> BigInt,
    }
}

diesel::table! {
    read_epoch (id) {
        id -> Integer,
        value -> BigInt,
    }
}

diesel::table! {
    identities (user_id) {
        user_id -> Text,
        real_name -> Text,
        id_card_no -> Text,
        id_card_sealed -> Nullable<Text>,
        verified_at -> BigInt,
    }
}

diesel::table! {
    bank_cards (user_id) {
        user_id -> Text,
        card_no -> Text,
        reserved_mobile -> Text,
        card_sealed -> Nullable<Text>,
        verified_at -> BigInt,
    }
}

diesel::table! {
    personal_infos (user_id) {
        user_id -> Text,
        education -> Text,
        marital_status -> Text,
        registry_province -> Text,
        registry_city -> Text,
        registry_detail -> Text,
        house_province -> Text,
        house_city -> Text,
        house_county -> Text,
        house_detail -> Text,
        residence_length -> Text,
        industry_type -> Text,
        work_province -> Text,
        work_city -> Text,
        work_county -> Text,
        work_detail -> Text,
        working_hours -> Text,
        employer -> Text,
        job_position -> Text,
        month_income_cents -> BigInt,
        payroll_day -> Nullable<Integer>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        user_id -> Text,
        position -> Integer,
        rel_type -> Text,
        real_name -> Text,
        phone -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        device_token -> Text,
        app_type -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    captchas (id) {
        id -> Text,
        code -> Text,
        client -> Text,
        created_at -> BigInt,
        consumed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    sms_codes (mobile, purpose) {
        mobile -> Text,
        purpose -> Text,
        code -> Text,
        attempts -> Integer,
        sent_at -> BigInt,
        consumed_at -> Nullable<BigInt>,
        flow_cookie -> Nullable<Text>,
        flow_client -> Nullable<Text>,
    }
}

diesel::table! {
    sms_sends (id) {
        id -> Text,
        mobile -> Text,
        purpose -> Text,
        business_date -> Text,
        sent_at -> BigInt,
    }
}

diesel::table! {
    grants (mobile, kind, flow) {
        mobile -> Text,
        kind -> Text,
        flow -> Text,
        granted_at -> BigInt,
        expires_at -> BigInt,
        failures -> Integer,
    }
}

diesel::table! {
    nonces (request_timestamp, nonce) {
        request_timestamp -> Text,
        nonce -> Text,
        seen_at -> BigInt,
    }
}

diesel::table! {
    rate_counters (bucket, window_start) {
        bucket -> Text,
        window_start -> BigInt,
        hits -> Integer,
    }
}

diesel::table! {
    products (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        detail_description -> Text,
        third_service_code -> Text,
        amount_limit_type -> Integer,
        single_min_amount_cents -> Nullable<BigInt>,
        single_max_amount_cents -> Nullable<BigInt>,
        single_amounts -> Nullable<Text>,
        single_default_amount_cents -> Nullable<BigInt>,
        rate_limit_type -> Integer,
        min_rate -> Nullable<Text>,
        max_rate -> Nullable<Text>,
        rates -> Nullable<Text>,
        default_rate -> Nullable<Text>,
        term_units -> Text,
        days_limit_type -> Nullable<Integer>,
        min_days -> Nullable<Integer>,
        max_days -> Nullable<Integer>,
        days -> Nullable<Text>,
        default_days -> Nullable<Integer>,
        months_limit_type -> Nullable<Integer>,
        min_months -> Nullable<Integer>,
        max_months -> Nullable<Integer>,
        months -> Nullable<Text>,
        default_months -> Nullable<Integer>,
        repay_types -> Text,
        repay_term_units -> Text,
        default_repay_term_count -> Nullable<Integer>,
        default_repay_term_unit -> Nullable<Text>,
        penalty_rate -> Nullable<Text>,
        service_fee_rate -> Text,
        upfront_fee_rate -> Text,
        on_sale -> Bool,
        display_order -> Integer,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    applications (id) {
        id -> Text,
        user_id -> Text,
        product_id -> Text,
        product_code -> Text,
        product_name -> Text,
        loan_code -> Text,
        status -> Integer,
        amount_cents -> BigInt,
        reply_amount_cents -> Nullable<BigInt>,
        interest_rate -> Text,
        penalty_rate -> Nullable<Text>,
        service_fee_rate -> Text,
        upfront_fee_rate -> Text,
        term_count -> Integer,
        term_unit -> Text,
        repay_term_count -> Integer,
        repay_term_unit -> Text,
        repay_type -> Text,
        auth_term_count -> Nullable<Integer>,
        auth_term_unit -> Nullable<Text>,
        purpose -> Text,
        other_channels -> Text,
        longitude -> Text,
        latitude -> Text,
        order_id -> Text,
        contact_name -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        remark -> Nullable<Text>,
        phonebook -> Text,
        applied_at -> BigInt,
        reviewed_at -> Nullable<BigInt>,
        decided_at -> Nullable<BigInt>,
        reject_reason -> Nullable<Text>,
        disbursed_at -> Nullable<BigInt>,
        release_date -> Nullable<Text>,
        settled_at -> Nullable<BigInt>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    contracts (id) {
        id -> Text,
        application_id -> Text,
        name -> Text,
        path -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    installments (id) {
        id -> Text,
        application_id -> Text,
        user_id -> Text,
        period -> Integer,
        start_date -> Text,
        due_date -> Text,
        principal_cents -> BigInt,
        interest_cents -> BigInt,
        fee_cents -> BigInt,
        status -> Integer,
        overdue -> Bool,
        penalty_cents -> BigInt,
        penalty_date -> Nullable<Text>,
        charged_principal_cents -> Nullable<BigInt>,
        charged_interest_cents -> Nullable<BigInt>,
        charged_fee_cents -> Nullable<BigInt>,
        charged_penalty_cents -> Nullable<BigInt>,
        settled_by -> Nullable<Text>,
        prepaid -> Bool,
        paid_on -> Nullable<Text>,
        paid_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        payment_ref -> Text,
        application_id -> Text,
        installment_id -> Nullable<Text>,
        user_id -> Text,
        kind -> Text,
        amount_cents -> BigInt,
        principal_cents -> BigInt,
        interest_cents -> BigInt,
        fee_cents -> BigInt,
        penalty_cents -> BigInt,
        channel_ref -> Nullable<Text>,
        business_date -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    job_runs (job, period) {
        job -> Text,
        period -> BigInt,
        instance -> Text,
        started_at -> BigInt,
    }
}

diesel::table! {
    login_guards (user_id, client) {
        user_id -> Text,
        client -> Text,
        failures -> Integer,
        window_start -> BigInt,
        locked_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    payment_orders (id) {
        id -> Text,
        kind -> Text,
        application_id -> Text,
        user_id -> Text,
        amount_cents -> BigInt,
        business_date -> Text,
        rounding -> Nullable<Text>,
        status -> Text,
        channel_ref -> Nullable<Text>,
        message -> Nullable<Text>,
        flag -> Nullable<Text>,
        settled_by -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        settled_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    payment_order_lines (order_id, installment_id) {
        order_id -> Text,
        installment_id -> Text,
        principal_cents -> BigInt,
        interest_cents -> BigInt,
        fee_cents -> BigInt,
        penalty_cents -> BigInt,
        prepaid -> Bool,
    }
}

diesel::table! {
    customer_messages (id) {
        id -> Text,
        user_id -> Text,
        message_type -> Text,
        title -> Text,
        content -> Text,
        event_key -> Nullable<Text>,
        sent_at -> BigInt,
    }
}

diesel::table! {
    system_messages (id) {
        id -> Text,
        message_type -> Text,
        title -> Text,
        content -> Text,
        event_url -> Text,
        send_at -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    feedback (id) {
        id -> Text,
        user_id -> Text,
        mobile -> Text,
        source -> Text,
        suggestion -> Text,
        business_date -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    app_versions (id) {
        id -> Text,
        app_type -> Text,
        version_code -> BigInt,
        version_name -> Text,
        download_url -> Text,
        force_update -> Bool,
        description -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    blacklist (mobile) {
        mobile -> Text,
        reason -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    sequences (scope, day) {
        scope -> Text,
        day -> Text,
        last_value -> BigInt,
    }
}

diesel::table! {
    operators (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        disabled -> Bool,
        failed_logins -> Integer,
        locked_until -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    operator_sessions (token_digest) {
        token_digest -> Text,
        operator_id -> Text,
        csrf_token -> Text,
        address -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        at -> BigInt,
        operator -> Text,
        role -> Text,
        address -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Text>,
        outcome -> Integer,
        before_state -> Nullable<Text>,
        after_state -> Nullable<Text>,
    }
}

diesel::table! {
    proposals (id) {
        id -> Text,
        kind -> Text,
        entity_id -> Text,
        payload -> Text,
        status -> Text,
        proposed_by -> Text,
        proposed_at -> BigInt,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<BigInt>,
        result -> Nullable<Text>,
    }
}

diesel::table! {
    collection_assignments (application_id) {
        application_id -> Text,
        collector_id -> Text,
        assigned_by -> Text,
        assigned_at -> BigInt,
    }
}

diesel::table! {
    collection_notes (id) {
        id -> Text,
        application_id -> Text,
        operator -> Text,
        method -> Text,
        result -> Text,
        promise_date -> Nullable<Text>,
        promise_amount_cents -> Nullable<BigInt>,
        at -> BigInt,
    }
}

diesel::table! {
    operator_address_guards (address) {
        address -> Text,
        failures -> Integer,
        locked_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    offline_receipts (flow_no) {
        flow_no -> Text,
        proposal_id -> Text,
        application_id -> Text,
        at -> BigInt,
    }
}

diesel::joinable!(identities -> users (user_id));
diesel::joinable!(bank_cards -> users (user_id));
diesel::joinable!(personal_infos -> users (user_id));
diesel::joinable!(contacts -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(applications -> users (user_id));
diesel::joinable!(applications -> products (product_id));
diesel::joinable!(contracts -> applications (application_id));
diesel::joinable!(installments -> applications (application_id));
diesel::joinable!(payments -> applications (application_id));
diesel::joinable!(payment_orders -> applications (application_id));
diesel::joinable!(payment_order_lines -> payment_orders (order_id));
diesel::joinable!(payment_order_lines -> installments (installment_id));
diesel::joinable!(customer_messages -> users (user_id));
diesel::joinable!(operator_sessions -> operators (operator_id));
diesel::joinable!(collection_assignments -> operators (collector_id));
diesel::joinable!(collection_assignments -> applications (application_id));
diesel::joinable!(collection_notes -> applications (application_id));

diesel::allow_tables_to_appear_in_same_query!(
    operators,
    operator_sessions,
    audit_events,
    proposals,
    offline_receipts,
    operator_address_guards,
    collection_assignments,
    collection_notes,
    login_guards,
    payment_orders,
    payment_order_lines,
    users,
    identities,
    bank_cards,
    personal_infos,
    contacts,
    sessions,
    captchas,
    sms_codes,
    sms_sends,
    grants,
    nonces,
    rate_counters,
    products,
    applications,
    contracts,
    installments,
    payments,
    customer_messages,
    system_messages,
    feedback,
    app_versions,
    blacklist,
    settings,
    sequences,
    job_runs,
    read_epoch,
);
