//! How personal data shows in the back office until an operator asks to see it in full (an
//! audited action): mobile `138****1234`, ID card `110105********1234`, bank card
//! `6217 **** 1234`, name `张*`. Each works on whatever is stored, whatever its length, and
//! never shows more than the pattern does.

/// `138****1234`: the first three and last four digits.
pub fn mobile(text: &str) -> String {
    keep_ends(text, 3, 4, |hidden| "*".repeat(hidden.max(4)), "")
}

/// `110105********1234`: the region (six) and the last four characters.
pub fn id_card(text: &str) -> String {
    keep_ends(text, 6, 4, |hidden| "*".repeat(hidden.max(8)), "")
}

/// `6217 **** 1234`: the first four and the last four digits.
pub fn bank_card(text: &str) -> String {
    keep_ends(text, 4, 4, |_| "****".to_owned(), " ")
}

/// `张*`, `欧阳**`: the first character, one star for each other.
pub fn name(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// `head` characters, the hidden middle as `stars` makes it, `tail` characters; a text too
/// short to hide anything in is all stars.
fn keep_ends(
    text: &str,
    head: usize,
    tail: usize,
    stars: impl Fn(usize) -> String,
    gap: &str,
) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len().max(4));
    }
    let first: String = chars[..head].iter().collect();
    let last: String = chars[chars.len() - tail..].iter().collect();
    format!(
        "{first}{gap}{}{gap}{last}",
        stars(chars.len() - head - tail)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patterns_of_the_back_office() {
        assert_eq!(mobile("13812341234"), "138****1234");
        assert_eq!(id_card("110105199001011234"), "110105********1234");
        assert_eq!(id_card("11010519900101123X"), "110105********123X");
        assert_eq!(bank_card("6217000012341234"), "6217 **** 1234");
        assert_eq!(bank_card("6217000000000001234"), "6217 **** 1234");
        assert_eq!(name("张三"), "张*");
        assert_eq!(name("欧阳娜娜"), "欧***");
        assert_eq!(name("李"), "李*");
    }

    #[test]
    fn short_or_empty_texts_show_nothing_of_themselves() {
        assert_eq!(mobile("1234"), "****");
        assert_eq!(mobile(""), "****");
        assert_eq!(id_card("1234567890"), "**********");
        assert_eq!(bank_card("12345678"), "********");
        assert_eq!(name(""), "");
    }

    proptest::proptest! {
        #[test]
        fn a_masked_number_shows_only_its_ends(s in "[0-9]{12,19}") {
            let digits = |m: &str| m.chars().filter(char::is_ascii_digit).collect::<String>();
            proptest::prop_assert_eq!(digits(&bank_card(&s)), format!("{}{}", &s[..4], &s[s.len() - 4..]));
            proptest::prop_assert_eq!(digits(&mobile(&s)), format!("{}{}", &s[..3], &s[s.len() - 4..]));
            proptest::prop_assert_eq!(digits(&id_card(&s)), format!("{}{}", &s[..6], &s[s.len() - 4..]));
        }
    }
}
