//! Customer message types (客户消息, `messageType` of §24; docs/loans.md "Customer messages").

/// Why a customer message was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// 11 提交审核短信提醒: application submitted.
    Submitted,
    /// 12 审核通过短信通知: approved.
    Approved,
    /// 13 审核拒绝短信通知: rejected.
    Rejected,
    /// 14 放款短信通知: disbursed.
    Disbursed,
    /// 15 还款提醒短信: repayment reminder (three days before and on the due date).
    RepaymentReminder,
    /// 16 已还款通知: repaid.
    Repaid,
    /// 17 逾期催收: overdue collection.
    Overdue,
    /// 99 其它: other (written by operators).
    Other,
}

impl MessageType {
    /// Every type in code order.
    pub const ALL: [MessageType; 8] = [
        MessageType::Submitted,
        MessageType::Approved,
        MessageType::Rejected,
        MessageType::Disbursed,
        MessageType::RepaymentReminder,
        MessageType::Repaid,
        MessageType::Overdue,
        MessageType::Other,
    ];

    /// The code sent as `messageType`.
    pub fn code(self) -> &'static str {
        match self {
            MessageType::Submitted => "11",
            MessageType::Approved => "12",
            MessageType::Rejected => "13",
            MessageType::Disbursed => "14",
            MessageType::RepaymentReminder => "15",
            MessageType::Repaid => "16",
            MessageType::Overdue => "17",
            MessageType::Other => "99",
        }
    }

    /// The type of `code`.
    pub fn from_code(code: &str) -> Option<MessageType> {
        MessageType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The seed's label, used as the message title.
    pub fn label(self) -> &'static str {
        match self {
            MessageType::Submitted => "提交审核短信提醒",
            MessageType::Approved => "审核通过短信通知",
            MessageType::Rejected => "审核拒绝短信通知",
            MessageType::Disbursed => "放款短信通知",
            MessageType::RepaymentReminder => "还款提醒短信",
            MessageType::Repaid => "已还款通知",
            MessageType::Overdue => "逾期催收",
            MessageType::Other => "其它",
        }
    }
}

/// The text of a customer message: what happened to which loan, in the borrower's words.
pub mod text {
    use chrono::NaiveDate;

    use crate::money::Money;

    /// 11: application submitted.
    pub fn submitted(loan_code: &str, amount: Money) -> String {
        format!("您的借款申请({loan_code})已提交,申请金额{amount}元,我们将尽快审核。")
    }

    /// 12: approved.
    pub fn approved(loan_code: &str, amount: Money) -> String {
        format!("您的借款申请({loan_code})已审核通过,批复金额{amount}元,将尽快放款。")
    }

    /// 13: rejected.
    pub fn rejected(loan_code: &str, reason: &str) -> String {
        if reason.is_empty() {
            format!("很抱歉,您的借款申请({loan_code})未通过审核。")
        } else {
            format!("很抱歉,您的借款申请({loan_code})未通过审核:{reason}")
        }
    }

    /// 14: paid out.
    pub fn disbursed(loan_code: &str, amount: Money, first_due: NaiveDate) -> String {
        format!("您的借款({loan_code})已放款{amount}元,首期应还日期{first_due},请按时还款。")
    }

    /// 15: reminder before or on the due date.
    pub fn reminder(loan_code: &str, period: u32, due: NaiveDate, amount: Money) -> String {
        format!("您的借款({loan_code})第{period}期应于{due}还款{amount}元,请按时还款。")
    }

    /// 16: repaid.
    pub fn repaid(loan_code: &str, amount: Money, settled: bool) -> String {
        if settled {
            format!("您已成功还款{amount}元,借款({loan_code})已全部还清。")
        } else {
            format!("您已成功还款{amount}元(借款{loan_code})。")
        }
    }

    /// 17: an installment became overdue.
    pub fn overdue(loan_code: &str, period: u32, due: NaiveDate, amount: Money) -> String {
        format!(
            "您的借款({loan_code})第{period}期已于{due}到期未还,应还{amount}元,逾期将产生罚息,请尽快还款。"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for t in MessageType::ALL {
            assert_eq!(MessageType::from_code(t.code()), Some(t));
        }
        assert_eq!(MessageType::from_code("18"), None);
    }
}
