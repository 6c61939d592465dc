using System.Globalization;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;

namespace BillingConsole.Engine.Commands;

// What a caller asks for, as the API receives it and a console form fills it in. Everything is nullable so that a
// missing field reaches the validator and is named there, instead of failing in the JSON binder.

/// <param name="Region">Where a country taxes by region, its code (QC for Québec); it picks the region's tax rule.</param>
public sealed record AddressInput(string? Line1, string? Line2, string? City, string? PostalCode, string? Country, string? Region = null);

/// <param name="CollectionMethod">charge_automatically (the default) or send_invoice.</param>
/// <param name="DaysUntilDue">With send_invoice only: how many days after it is issued an invoice is due.</param>
/// <param name="TimeZone">An IANA id ("Europe/Berlin") in which payment retries are planned; left out: the billing time zone.</param>
/// <param name="TaxId">The customer's VAT or tax number ("DE123456789"), printed on their invoices.</param>
public sealed record CreateCustomer(string? Name, string? Email, string? Currency, AddressInput? Address, string? ExternalRef,
    string? CollectionMethod = null, int? DaysUntilDue = null, string? TimeZone = null, string? TaxId = null);

/// <summary>
/// A partial update: a field left out (null) keeps its value. An empty externalRef, timeZone or taxId clears it. A collection method is given
/// whole: send_invoice with its daysUntilDue, or charge_automatically alone.
/// </summary>
public sealed record UpdateCustomer(string? Name, string? Email, string? Currency, AddressInput? Address, string? ExternalRef,
    string? CollectionMethod = null, int? DaysUntilDue = null, string? TimeZone = null, string? TaxId = null);

public static class CollectionMethods
{
    public const string ChargeAutomatically = "charge_automatically";
    public const string SendInvoice = "send_invoice";
    public static readonly IReadOnlyList<string> All = [ChargeAutomatically, SendInvoice];
}

/// <param name="Gateway">Which gateway issued the token; "sandbox" when left out.</param>
public sealed record AttachPaymentMethod(string? Gateway, string? Token, string? Brand, string? Last4, int? ExpMonth, int? ExpYear);

/// <param name="TrialDays">Overrides the price's trial; 0 for none.</param>
/// <param name="CouponCode">A coupon redeemed for this subscription from its first invoice.</param>
public sealed record CreateSubscription(Guid? CustomerId, Guid? PriceId, int? Quantity, int? TrialDays, string? CouponCode = null);

/// <param name="Amount">What one unit costs per interval, in <paramref name="Currency"/>; zero for a free price.</param>
/// <param name="Interval">month or year.</param>
public sealed record AddPrice(string? Currency, decimal? Amount, string? Interval, int? TrialDays);

/// <param name="Code">A stable identifier upstream systems use ("pro"): letters, digits, '-' and '_'.</param>
public sealed record CreatePlan(string? Code, string? Name, string? Description, IReadOnlyList<AddPrice>? Prices);

/// <param name="PercentOff">More than 0, at most 100; or leave out and give <paramref name="AmountOff"/> and <paramref name="Currency"/>.</param>
/// <param name="Duration">once (the next invoice), repeating (with <paramref name="DurationMonths"/>) or forever.</param>
/// <param name="MaxRedemptions">How many times it can be redeemed in all; left out: without limit.</param>
/// <param name="RedeemBy">After this instant it can no longer be redeemed; discounts already made go on.</param>
public sealed record CreateCoupon(string? Code, string? Name, decimal? PercentOff, decimal? AmountOff, string? Currency, string? Duration,
    int? DurationMonths, int? MaxRedemptions, DateTimeOffset? RedeemBy);

public sealed record ApplyCoupon(string? CouponCode);

/// <param name="ToPriceId">The price the subscribers move to: same currency, and not archived.</param>
/// <param name="When">at_renewal (the default: the next renewal bills the new price) or now (an immediate, prorated plan change each).</param>
public sealed record MigratePrice(Guid? ToPriceId, string? When = null);

public static class MigrateWhen
{
    public const string AtRenewal = "at_renewal";
    public const string Now = "now";
    public static readonly IReadOnlyList<string> All = [AtRenewal, Now];
}

/// <param name="Quantity">Left out: the current quantity.</param>
/// <param name="Behavior">immediate, next_invoice or at_period_end; left out: immediate for upgrades, at_period_end otherwise.</param>
/// <param name="ProrationDate">
/// Prices the change as of this instant (within the last hour and the current period) instead of now, so that the change
/// bills exactly what a preview quoted at that instant showed.
/// </param>
public sealed record ChangePlan(Guid? PriceId, int? Quantity, string? Behavior, DateTimeOffset? ProrationDate);

/// <param name="When">at_period_end (the default) or now.</param>
public sealed record CancelSubscription(string? When);

public static class CancelWhen
{
    public const string AtPeriodEnd = "at_period_end";
    public const string Now = "now";
    public static readonly IReadOnlyList<string> All = [AtPeriodEnd, Now];
}

/// <summary>One rung of the escalation ladder as the policy form edits it.</summary>
public sealed class EscalationStepInput
{
    public int? Day { get; set; }
    public EscalationAction Action { get; set; }
}

/// <summary>
/// A dunning policy as the settings form edits it: the retry days as typed ("1, 3, 5, 7"), nothing chosen yet as null.
/// <see cref="SaveDunningPolicyValidator"/> says what is wrong, field by field; <see cref="ToSettings"/> is for a valid one.
/// </summary>
public sealed class SaveDunningPolicy
{
    public RetryMode? Mode { get; set; }
    public string? FixedIntervals { get; set; }
    public int? AttemptBudget { get; set; }
    public List<EscalationStepInput> Ladder { get; set; } = [];
    public FinalAction? FinalAction { get; set; }
    public int? GracePeriodHours { get; set; }
    public List<string> HardDeclineCodes { get; set; } = [];
    public bool NotifyRetryScheduled { get; set; }
    public int? FinalNoticeDaysBefore { get; set; }
    /// <summary>True: open cases follow the new version at once. False: only cases opened from now on do.</summary>
    public bool ApplyToOpenCases { get; set; } = true;
    public string? Reason { get; set; }

    public static SaveDunningPolicy From(DunningPolicySettings settings) => new()
    {
        Mode = settings.Mode,
        FixedIntervals = string.Join(", ", settings.FixedIntervalsDays),
        AttemptBudget = settings.AttemptBudget,
        Ladder = [.. settings.Ladder.Select(s => new EscalationStepInput { Day = s.Day, Action = s.Action })],
        FinalAction = settings.FinalAction,
        GracePeriodHours = settings.GracePeriodHours,
        HardDeclineCodes = [.. settings.HardDeclineCodes],
        NotifyRetryScheduled = settings.NotifyRetryScheduled,
        FinalNoticeDaysBefore = settings.FinalNoticeDaysBefore,
    };

    /// <summary>The typed retry days, or null when one of them is not a whole number.</summary>
    public IReadOnlyList<int>? ParsedIntervals()
    {
        var parts = (FixedIntervals ?? string.Empty).Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries);
        var days = new List<int>(parts.Length);
        foreach (var part in parts)
        {
            if (!int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var day)) return null;
            days.Add(day);
        }
        return days;
    }

    /// <summary>Every field is filled in and every day is a number (what the validator checks before the policy's own rules).</summary>
    public bool IsComplete => Mode is not null && ParsedIntervals() is not null && AttemptBudget is not null && FinalAction is not null
                              && GracePeriodHours is not null && FinalNoticeDaysBefore is not null && Ladder.All(s => s.Day is not null);

    public DunningPolicySettings ToSettings()
    {
        if (!IsComplete) throw new InvalidOperationException("The policy form is not complete.");
        return new DunningPolicySettings
        {
            Mode = Mode!.Value,
            FixedIntervalsDays = ParsedIntervals()!,
            AttemptBudget = AttemptBudget!.Value,
            Ladder = [.. Ladder.Select(s => new EscalationStep(s.Day!.Value, s.Action))],
            FinalAction = FinalAction!.Value,
            GracePeriodHours = GracePeriodHours!.Value,
            HardDeclineCodes = [.. HardDeclineCodes],
            NotifyRetryScheduled = NotifyRetryScheduled,
            FinalNoticeDaysBefore = FinalNoticeDaysBefore!.Value,
        };
    }
}

/// <summary>The reasons a credit note or a refund can state, as the API spells them.</summary>
public static class CreditReasons
{
    public static readonly IReadOnlyList<string> All = [.. Enum.GetValues<Domain.Payments.CreditReason>().Select(r => r.ToSnakeCase())];

    public static Domain.Payments.CreditReason Parse(string text) =>
        EnumNames.TryParseSnakeCase<Domain.Payments.CreditReason>(text, out var reason) ? reason : throw new DomainRuleException($"'{text}' is not a credit reason.");
}

/// <param name="Amount">Left out: everything still refundable on the invoice's payment.</param>
/// <param name="Reason">duplicate, product_unsatisfactory, order_change or goodwill; stated on the credit note the refund issues.</param>
/// <param name="Memo">A note for the customer, printed on the credit note.</param>
public sealed record RefundPayment(decimal? Amount, string? Reason, string? Memo = null);

public sealed record CreditNoteLineInput(string? Description, decimal? Amount);

/// <param name="Reason">duplicate, product_unsatisfactory, order_change or goodwill.</param>
public sealed record IssueCreditNote(IReadOnlyList<CreditNoteLineInput>? Lines, string? Reason, string? Memo = null);

public static class BalanceDirections
{
    public const string Credit = "credit";
    public const string Debit = "debit";
    public static readonly IReadOnlyList<string> All = [Credit, Debit];
}

/// <param name="Direction">credit (the customer's credit balance grows) or debit (it shrinks, at most to zero).</param>
/// <param name="Currency">Optional; when given it must be the customer's currency.</param>
public sealed record AdjustBalance(string? Direction, decimal? Amount, string? Currency = null);

public static class OneOffCollections
{
    public const string ChargeNow = "charge_now";
    public const string SendInvoice = "send_invoice";
    public static readonly IReadOnlyList<string> All = [ChargeNow, SendInvoice];
}

public sealed record OneOffLineInput(string? Description, int? Quantity, decimal? UnitPrice);

/// <param name="Collection">charge_now (charged to the customer's default payment method at once) or send_invoice (with DaysUntilDue).</param>
/// <param name="Currency">Optional; when given it must be the customer's currency.</param>
public sealed record CreateOneOffInvoice(IReadOnlyList<OneOffLineInput>? Lines, string? Collection, int? DaysUntilDue = null, string? Currency = null);
