//! Customer message types (客户消息, `messageType` of §24; DOMAIN.md "Customer messages").

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
