using System.Text.Json;
using System.Text.RegularExpressions;
using BillingConsole.Domain.Ledger;

namespace BillingConsole.Engine.Accounting;

/// <summary>
/// The codes of the business's chart of accounts that the journal export writes for the ledger's accounts, so that an
/// accounting system imports the entries onto its own accounts. Stored in the settings table under <see cref="Key"/>; an
/// account never saved keeps its default code.
/// </summary>
public sealed partial record AccountCodes(IReadOnlyDictionary<LedgerAccount, string> Codes)
{
    public const string Key = "accounting";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A conventional small-business numbering: assets 1xxx, liabilities 2xxx, revenue 4xxx, expenses 6xxx.</summary>
    public static AccountCodes Default { get; } = new(new Dictionary<LedgerAccount, string>
    {
        [LedgerAccount.Cash] = "1010",
        [LedgerAccount.Receivable] = "1200",
        [LedgerAccount.TaxPayable] = "2200",
        [LedgerAccount.CustomerCredit] = "2300",
        [LedgerAccount.RefundsPayable] = "2400",
        [LedgerAccount.Revenue] = "4000",
        [LedgerAccount.Discounts] = "4800",
        [LedgerAccount.Refunds] = "4900",
        [LedgerAccount.Chargebacks] = "6500",
        [LedgerAccount.DisputeFees] = "6510",
        [LedgerAccount.BadDebt] = "6900",
    });

    /// <summary>What each account holds, as finance reads it on the journal page and in the export.</summary>
    public static string NameOf(LedgerAccount account) => account switch
    {
        LedgerAccount.Cash => "Cash (received at the gateway)",
        LedgerAccount.Receivable => "Accounts receivable",
        LedgerAccount.TaxPayable => "Tax payable",
        LedgerAccount.CustomerCredit => "Customer credit balances",
        LedgerAccount.RefundsPayable => "Refunds payable",
        LedgerAccount.Revenue => "Subscription revenue",
        LedgerAccount.Discounts => "Discounts (contra revenue)",
        LedgerAccount.Refunds => "Refunds (contra revenue)",
        LedgerAccount.Chargebacks => "Chargebacks (disputes lost)",
        LedgerAccount.DisputeFees => "Dispute fees",
        LedgerAccount.BadDebt => "Bad debt expense",
        _ => account.ToString(),
    };

    public static IReadOnlyList<LedgerAccount> Accounts { get; } = Enum.GetValues<LedgerAccount>();

    public string CodeOf(LedgerAccount account) => Codes.TryGetValue(account, out var code) ? code : Default.Codes[account];

    /// <summary>1–20 letters, digits, dots or dashes, starting with a letter or digit: what accounting systems accept as a code.</summary>
    public static bool IsCode(string? code) => code is not null && CodePattern().IsMatch(code);

    public static AccountCodes FromJson(string? json)
    {
        if (string.IsNullOrEmpty(json)) return Default;
        var saved = JsonSerializer.Deserialize<Dictionary<LedgerAccount, string>>(json, Json) ?? [];
        return new AccountCodes(Accounts.ToDictionary(a => a, a => saved.TryGetValue(a, out var code) ? code : Default.Codes[a]));
    }

    public string ToJson() => JsonSerializer.Serialize(Accounts.ToDictionary(a => a, CodeOf), Json);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9.-]{0,19}$")]
    private static partial Regex CodePattern();
}
