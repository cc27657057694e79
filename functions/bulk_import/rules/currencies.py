"""ISO 4217 currency codes."""

from __future__ import annotations

import re

from bulk_import.rules.errors import RuleError
from bulk_import.rules.strings import clean

# Active ISO 4217 alphabetic codes of currencies that money is actually paid in (ISO 4217 list one, 2026).
# Left out on purpose: fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), precious metals (XAG,
# XAU, XPD, XPT), bond-market units (XBA-XBD), supranational accounting units (XDR, XSU, XUA), the test code
# XTS and "no currency" XXX, and codes withdrawn after a replacement: ANG (-> XCG, 2025), BGN (-> EUR, 2026),
# CUC (Cuba's unification, 2021), HRK (-> EUR, 2023), SLL (-> SLE), ZWL (-> ZWG, 2024), VEF, MRO, STD, BYR.
# A whitespace-separated block keeps 155 codes reviewable at a glance, hence the noqa.
ISO_4217_CURRENCIES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN
    BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK
    DJF DKK DOP DZD
    EGP ERN ETB EUR
    FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD
    HKD HNL HTG HUF
    IDR ILS INR IQD IRR ISK
    JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT
    LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
    NAD NGN NIO NOK NPR NZD
    OMR
    PAB PEN PGK PHP PKR PLN PYG
    QAR
    RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS
    VED VES VND VUV
    WST
    XAF XCD XCG XOF XPF
    YER
    ZAR ZMW ZWG
    """.split()  # noqa: SIM905
)

# Long garbage would make an unreadable message: show only its start.
_MAX_ECHO = 20
_CODE = re.compile(r"[A-Z]{3}", re.ASCII)


def normalize_currency(raw: object, *, strict: bool = False) -> str:
    """Normalize an ISO 4217 currency code.

    Parameters
    ----------
    raw
        The code as sent, in any case and with surrounding spaces (``" eur "``).
    strict
        When true the code must already be written in capitals (``^[A-Z]{3}$`` once trimmed): ``"usd"``
        is refused rather than corrected, for contracts that define the code's spelling.

    Returns
    -------
    str
        The upper-case code (``"EUR"``).

    Raises
    ------
    RuleError
        ``"not an ISO 4217 currency code: XYZ"`` for anything that is not an active currency code, including
        symbols (``"€"``), names and numeric codes; with ``strict``, ``"must be written in capital
        letters: USD, not usd"`` for a code not written in capitals.
    """
    text = clean(raw)
    if text is None:
        raise RuleError("must not be empty")
    code = text.upper()
    if code not in ISO_4217_CURRENCIES:
        shown = code if len(code) <= _MAX_ECHO else code[:_MAX_ECHO] + "…"
        raise RuleError(f"not an ISO 4217 currency code: {shown}")
    if strict and not _CODE.fullmatch(text):
        raise RuleError(f"must be written in capital letters: {code}, not {text}")
    return code
