//! Who may apply for a loan: a borrower who completed the four authentications (认证).

/// The four authentications, done or not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Authentications {
    /// 身份信息认证 (§32).
    pub real_name: bool,
    /// 银行卡认证 (§30).
    pub bank_card: bool,
    /// 完善个人信息 (§34).
    pub customer_info: bool,
    /// 手机认证 (§31).
    pub mobile: bool,
}

impl Authentications {
    /// The ones still to do, by their Chinese names, in the order the app shows them; empty when
    /// the borrower may apply.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            (self.real_name, "身份信息认证"),
            (self.bank_card, "银行卡认证"),
            (self.customer_info, "完善个人信息"),
            (self.mobile, "手机认证"),
        ]
        .into_iter()
        .filter(|(done, _)| !done)
        .map(|(_, name)| name)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_four_are_needed() {
        let all = Authentications {
            real_name: true,
            bank_card: true,
            customer_info: true,
            mobile: true,
        };
        assert!(all.missing().is_empty());
        let some = Authentications {
            bank_card: false,
            mobile: false,
            ..all
        };
        assert_eq!(some.missing(), ["银行卡认证", "手机认证"]);
        assert_eq!(Authentications::default().missing().len(), 4);
    }
}
