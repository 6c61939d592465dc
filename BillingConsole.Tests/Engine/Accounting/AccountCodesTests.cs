using BillingConsole.Domain.Ledger;
using BillingConsole.Engine.Accounting;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Engine.Accounting;

/// <summary>The account codes' defaults and rules, and the journal period's parsing and its instants in the billing time zone.</summary>
[PureTests]
public sealed class AccountCodesTests
{
    [Fact]
    public void Every_ledger_account_has_its_own_default_code_and_a_name()
    {
        var codes = AccountCodes.Accounts.Select(AccountCodes.Default.CodeOf).ToList();
        Assert.All(codes, code => Assert.True(AccountCodes.IsCode(code), code));
        Assert.Equal(codes.Count, codes.Distinct().Count());
        Assert.All(AccountCodes.Accounts, account => Assert.NotEqual(account.ToString(), AccountCodes.NameOf(account)));
    }

    [Fact]
    public void Saved_codes_read_back_and_an_account_never_saved_keeps_its_default()
    {
        var saved = new AccountCodes(AccountCodes.Accounts.ToDictionary(a => a, a => "X-" + AccountCodes.Default.CodeOf(a)));
        Assert.Equal("X-4000", AccountCodes.FromJson(saved.ToJson()).CodeOf(LedgerAccount.Revenue));
        Assert.Equal("4000", AccountCodes.FromJson("""{"Cash":"1000"}""").CodeOf(LedgerAccount.Revenue));
        Assert.Equal("1000", AccountCodes.FromJson("""{"Cash":"1000"}""").CodeOf(LedgerAccount.Cash));
        Assert.Equal("4000", AccountCodes.FromJson(null).CodeOf(LedgerAccount.Revenue));
    }

    [Fact]
    public void A_code_that_is_empty_malformed_or_given_twice_is_refused_by_field_and_a_reason_is_required()
    {
        var form = SaveAccountCodes.From(AccountCodes.Default);
        form.Codes[LedgerAccount.Revenue] = " ";
        form.Codes[LedgerAccount.BadDebt] = "=cmd|' /C calc'!A0";
        form.Codes[LedgerAccount.Refunds] = "1200";

        var errors = new SaveAccountCodesValidator().Validate(form).Errors.ToDictionary(e => e.PropertyName, e => e.ErrorMessage);

        Assert.Equal(
            new[] { SaveAccountCodes.FieldOf(LedgerAccount.Revenue), SaveAccountCodes.FieldOf(LedgerAccount.BadDebt), SaveAccountCodes.FieldOf(LedgerAccount.Refunds), "Reason" }
                .Order(StringComparer.Ordinal),
            errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("already given to another account", errors[SaveAccountCodes.FieldOf(LedgerAccount.Refunds)]);
        Assert.Contains("letters, digits", errors[SaveAccountCodes.FieldOf(LedgerAccount.Revenue)]);

        var good = SaveAccountCodes.From(AccountCodes.Default);
        good.Reason = "Our chart of accounts";
        Assert.True(new SaveAccountCodesValidator().Validate(good).IsValid);
    }

    [Theory]
    [InlineData("2027-04-01", "2027-04-30", null)]
    [InlineData("2027-04-31", "2027-05-01", "from must be a date")]
    [InlineData("2027-04-01", "30/04/2027", "to must be a date")]
    [InlineData(null, "2027-04-30", "from must be a date")]
    [InlineData("2027-05-01", "2027-04-30", "to is before from")]
    public void A_period_is_two_dates_in_order(string? from, string? to, string? error)
    {
        var (period, message) = JournalPeriod.Parse(from, to);
        if (error is null) Assert.Equal(new JournalPeriod(new DateOnly(2027, 4, 1), new DateOnly(2027, 4, 30)), period);
        else
        {
            Assert.Null(period);
            Assert.Contains(error, message);
        }
    }

    [Fact]
    public void A_period_covers_whole_local_days_in_the_billing_time_zone()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var april = new JournalPeriod(new DateOnly(2027, 4, 1), new DateOnly(2027, 4, 30));
        // Summer time has started on 28 March: April begins at 22:00 UTC the day before and ends at 22:00 UTC on 30 April.
        Assert.Equal((new DateTimeOffset(2027, 3, 31, 22, 0, 0, TimeSpan.Zero), new DateTimeOffset(2027, 4, 30, 22, 0, 0, TimeSpan.Zero)), april.Instants(berlin));
        Assert.Equal((new DateTimeOffset(2027, 4, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2027, 5, 1, 0, 0, 0, TimeSpan.Zero)), april.Instants(TimeZoneInfo.Utc));
        Assert.Equal(new JournalPeriod(new DateOnly(2027, 2, 1), new DateOnly(2027, 2, 28)), JournalPeriod.MonthBefore(new DateOnly(2027, 3, 15)));
        Assert.Equal(new JournalPeriod(new DateOnly(2026, 12, 1), new DateOnly(2026, 12, 31)), JournalPeriod.MonthBefore(new DateOnly(2027, 1, 1)));
    }
}
