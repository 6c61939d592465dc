using System.Linq.Expressions;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Configuration;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using FluentValidation;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Commands;

// One validator per command, used by the command itself before anything is read or written, so the API and the
// console forms give the same answers. Limits follow the column sizes in Persistence/Configurations.

public sealed class CreateCustomerValidator : AbstractValidator<CreateCustomer>
{
    public CreateCustomerValidator()
    {
        RuleFor(c => c.Name).NotEmpty().WithMessage("A name is required.").CustomerName().NoControlCharacters();
        RuleFor(c => c.Email).NotEmpty().WithMessage("An email address is required.").EmailShape().NoControlCharacters();
        RuleFor(c => c.Currency).NotEmpty().WithMessage("A currency is required.").NoControlCharacters().KnownCurrency();
        RuleFor(c => c.Address).SetValidator(new AddressValidator()!).When(c => c.Address is not null);
        RuleFor(c => c.ExternalRef).MaximumLength(200).NoControlCharacters();
        this.CollectionMethodRules(c => c.CollectionMethod, c => c.DaysUntilDue);
        RuleFor(c => c.TimeZone).Cascade(CascadeMode.Stop).NoControlCharacters().CustomerTimeZone();
        RuleFor(c => c.TaxId).CustomerTaxId();
    }
}

public sealed class UpdateCustomerValidator : AbstractValidator<UpdateCustomer>
{
    public UpdateCustomerValidator()
    {
        RuleFor(c => c.Name).NotEmpty().WithMessage("The name cannot be blank.").CustomerName().NoControlCharacters().When(c => c.Name is not null);
        RuleFor(c => c.Email).NotEmpty().WithMessage("The email address cannot be blank.").EmailShape().NoControlCharacters().When(c => c.Email is not null);
        RuleFor(c => c.Currency).NoControlCharacters().KnownCurrency().When(c => c.Currency is not null);
        RuleFor(c => c.Address).SetValidator(new AddressValidator()!).When(c => c.Address is not null);
        RuleFor(c => c.ExternalRef).MaximumLength(200).NoControlCharacters();
        this.CollectionMethodRules(c => c.CollectionMethod, c => c.DaysUntilDue);
        RuleFor(c => c.TimeZone).Cascade(CascadeMode.Stop).NoControlCharacters().CustomerTimeZone();
        RuleFor(c => c.TaxId).CustomerTaxId();
    }
}

internal static class CollectionMethodValidation
{
    /// <summary>
    /// The collection method is one of <see cref="CollectionMethods.All"/>; send_invoice needs its days until due, which
    /// nothing else takes. Left out entirely, nothing is checked (a new customer is charged automatically).
    /// </summary>
    public static void CollectionMethodRules<T>(this AbstractValidator<T> validator, Expression<Func<T, string?>> method,
        Expression<Func<T, int?>> daysUntilDue)
    {
        var methodOf = method.Compile();
        validator.RuleFor(method)
            .Must(m => CollectionMethods.All.Contains(m!)).WithMessage("The collection method is charge_automatically or send_invoice.")
            .When(c => methodOf(c) is not null);
        validator.RuleFor(daysUntilDue)
            .NotNull().WithMessage("Sending invoices needs daysUntilDue: how many days after it is issued an invoice is due.")
            .InclusiveBetween(0, Customer.MaxDaysUntilDue).WithMessage($"daysUntilDue is between 0 and {Customer.MaxDaysUntilDue}.")
            .When(c => methodOf(c) == CollectionMethods.SendInvoice);
        validator.RuleFor(daysUntilDue)
            .Null().WithMessage("daysUntilDue goes with the collection method send_invoice only.")
            .When(c => methodOf(c) != CollectionMethods.SendInvoice);
    }
}

public sealed class AddressValidator : AbstractValidator<AddressInput>
{
    public AddressValidator()
    {
        RuleFor(a => a.Line1).NotEmpty().WithMessage("The first address line is required.").MaximumLength(200).NoControlCharacters();
        RuleFor(a => a.Line2).MaximumLength(200).NoControlCharacters();
        RuleFor(a => a.City).NotEmpty().WithMessage("The city is required.").MaximumLength(100).NoControlCharacters();
        RuleFor(a => a.PostalCode).NotEmpty().WithMessage("The postal code is required.").MaximumLength(20).NoControlCharacters();
        RuleFor(a => a.Country).NotEmpty().WithMessage("The country is required.")
            .Matches("^[A-Za-z]{2}$").WithMessage("The country is a two-letter ISO 3166 code, e.g. GB.");
        RuleFor(a => a.Region).Matches("^[A-Za-z0-9]{1,10}$").WithMessage("The region is a code of 1 to 10 letters or digits, e.g. QC.")
            .When(a => !string.IsNullOrWhiteSpace(a.Region));
    }
}

public sealed class AttachPaymentMethodValidator : AbstractValidator<AttachPaymentMethod>
{
    public AttachPaymentMethodValidator(TimeProvider clock)
    {
        RuleFor(p => p.Gateway).MaximumLength(40).Matches("^[a-z0-9_-]+$").WithMessage("The gateway is a lower-case name such as 'sandbox'.")
            .When(p => p.Gateway is not null);
        RuleFor(p => p.Token).NotEmpty().WithMessage("The gateway's token for the card is required.").MaximumLength(200).NoCardNumber().NoControlCharacters();
        RuleFor(p => p.Brand).NotEmpty().WithMessage("The card brand is required.").MaximumLength(40).NoCardNumber().NoControlCharacters();
        RuleFor(p => p.Last4).NotEmpty().WithMessage("The card's last four digits are required.")
            .Matches("^[0-9]{4}$").WithMessage("last4 is exactly four digits.").NoCardNumber();
        RuleFor(p => p.ExpMonth).NotNull().WithMessage("The expiry month is required.")
            .InclusiveBetween(1, 12).WithMessage("The expiry month is between 1 and 12.");
        RuleFor(p => p.ExpYear).NotNull().WithMessage("The expiry year is required.")
            .InclusiveBetween(2000, 2100).WithMessage("The expiry year is a four-digit year.");
        RuleFor(p => p.ExpYear)
            .Must((p, year) => !HasExpired(year!.Value, p.ExpMonth!.Value, clock.GetUtcNow()))
            .WithMessage("The card has expired.")
            .When(p => p.ExpYear is >= 2000 and <= 2100 && p.ExpMonth is >= 1 and <= 12);
    }

    /// <summary>A card is valid to the end of its expiry month.</summary>
    private static bool HasExpired(int year, int month, DateTimeOffset now) => year < now.Year || (year == now.Year && month < now.Month);
}

public sealed class CreateSubscriptionValidator : AbstractValidator<CreateSubscription>
{
    public CreateSubscriptionValidator()
    {
        RuleFor(s => s.CustomerId).NotEmpty().WithMessage("The customer id is required.");
        RuleFor(s => s.PriceId).NotEmpty().WithMessage("The price id is required.");
        RuleFor(s => s.Quantity).NotNull().WithMessage("The quantity is required.").Quantity();
        RuleFor(s => s.TrialDays).InclusiveBetween(0, 730).WithMessage("Trial days are between 0 and 730.");
        RuleFor(s => s.CouponCode).CatalogCode("coupon").When(s => s.CouponCode is not null);
    }
}

public sealed class AddPriceValidator : AbstractValidator<AddPrice>
{
    public static readonly IReadOnlyList<string> Intervals = ["month", "year"];

    public AddPriceValidator()
    {
        RuleFor(p => p.Currency).NotEmpty().WithMessage("A currency is required.").NoControlCharacters().KnownCurrency();
        RuleFor(p => p.Amount).NotNull().WithMessage("An amount is required.")
            .GreaterThanOrEqualTo(0m).WithMessage("A price must not be negative.")
            .LessThan(1_000_000_000m).WithMessage("A price is less than 1,000,000,000.");
        RuleFor(p => p.Interval).NotEmpty().WithMessage("An interval is required: month or year.")
            .Must(i => Intervals.Contains(i!)).WithMessage("The interval is month or year.").When(p => p.Interval is not null);
        RuleFor(p => p.TrialDays).InclusiveBetween(0, 730).WithMessage("Trial days are between 0 and 730.");
    }
}

public sealed class CreatePlanValidator : AbstractValidator<CreatePlan>
{
    public CreatePlanValidator()
    {
        RuleFor(p => p.Code).NotEmpty().WithMessage("A plan code is required.").CatalogCode("plan");
        RuleFor(p => p.Name).NotEmpty().WithMessage("A plan name is required.").MaximumLength(120).NoControlCharacters();
        RuleFor(p => p.Description).MaximumLength(1000).NoControlCharacters();
        RuleFor(p => p.Prices).Must(prices => prices!.Count <= 20).WithMessage("A plan is created with at most 20 prices.").When(p => p.Prices is not null);
        RuleForEach(p => p.Prices).SetValidator(new AddPriceValidator());
    }
}

public sealed class CreateCouponValidator : AbstractValidator<CreateCoupon>
{
    public static readonly IReadOnlyList<string> Durations = ["once", "repeating", "forever"];

    public CreateCouponValidator()
    {
        RuleFor(c => c.Code).NotEmpty().WithMessage("A coupon code is required.").CatalogCode("coupon");
        RuleFor(c => c.Name).NotEmpty().WithMessage("A coupon name is required.").MaximumLength(120).NoControlCharacters();
        RuleFor(c => c.PercentOff).NotNull().WithMessage("Give a percentage off or an amount off.").When(c => c.AmountOff is null);
        RuleFor(c => c.PercentOff).Null().WithMessage("Give a percentage off or an amount off, not both.").When(c => c.AmountOff is not null);
        RuleFor(c => c.PercentOff).GreaterThan(0m).LessThanOrEqualTo(100m).WithMessage("A percentage off is more than 0 and at most 100.")
            .PrecisionScale(7, 4, true).WithMessage("A percentage off has at most 4 decimals.");
        RuleFor(c => c.AmountOff).GreaterThan(0m).WithMessage("An amount off is more than zero.")
            .LessThan(1_000_000_000m).WithMessage("An amount off is less than 1,000,000,000.");
        RuleFor(c => c.Currency).NotEmpty().WithMessage("An amount off needs its currency.").NoControlCharacters().KnownCurrency()
            .When(c => c.AmountOff is not null);
        RuleFor(c => c.Currency).Null().WithMessage("A percentage off takes no currency.").When(c => c.AmountOff is null);
        RuleFor(c => c.Duration).NotEmpty().WithMessage("A duration is required: once, repeating or forever.")
            .Must(d => Durations.Contains(d!)).WithMessage("The duration is once, repeating or forever.").When(c => c.Duration is not null);
        RuleFor(c => c.DurationMonths).NotNull().WithMessage("A repeating coupon needs durationMonths.")
            .InclusiveBetween(1, Coupon.MaxRepeatingMonths).WithMessage($"durationMonths is between 1 and {Coupon.MaxRepeatingMonths}.")
            .When(c => c.Duration == "repeating");
        RuleFor(c => c.DurationMonths).Null().WithMessage("durationMonths goes with the duration repeating only.").When(c => c.Duration != "repeating");
        RuleFor(c => c.MaxRedemptions).GreaterThanOrEqualTo(1).WithMessage("maxRedemptions is at least 1.");
    }
}

public sealed class ApplyCouponValidator : AbstractValidator<ApplyCoupon>
{
    public ApplyCouponValidator() => RuleFor(a => a.CouponCode).NotEmpty().WithMessage("A coupon code is required.").CatalogCode("coupon");
}

public sealed class MigratePriceValidator : AbstractValidator<MigratePrice>
{
    public MigratePriceValidator()
    {
        RuleFor(m => m.ToPriceId).NotEmpty().WithMessage("The price to migrate to (toPriceId) is required.");
        RuleFor(m => m.When).Must(w => MigrateWhen.All.Contains(w!)).WithMessage("when is at_renewal or now.").When(m => m.When is not null);
    }
}

public sealed class ChangePlanValidator : AbstractValidator<ChangePlan>
{
    /// <summary>How old a quote may be when the change is made with its proration date.</summary>
    public static readonly TimeSpan QuoteLifetime = TimeSpan.FromHours(1);

    public ChangePlanValidator(TimeProvider clock)
    {
        RuleFor(c => c.PriceId).NotEmpty().WithMessage("The new price id is required.");
        RuleFor(c => c.Quantity).Quantity();
        RuleFor(c => c.Behavior)
            .Must(b => EnumNames.TryParseSnakeCase<ProrationBehavior>(b, out _))
            .WithMessage("The behavior is one of immediate, next_invoice or at_period_end.")
            .When(c => c.Behavior is not null);
        RuleFor(c => c.ProrationDate)
            .Must(at => at!.Value <= clock.GetUtcNow() && at.Value >= clock.GetUtcNow() - QuoteLifetime)
            .WithMessage("The proration date is within the last hour and not in the future.")
            .When(c => c.ProrationDate is not null);
    }
}

public sealed class CancelSubscriptionValidator : AbstractValidator<CancelSubscription>
{
    public CancelSubscriptionValidator()
    {
        RuleFor(c => c.When).Must(w => CancelWhen.All.Contains(w!)).WithMessage("When is at_period_end or now.").When(c => c.When is not null);
    }
}

public sealed class RefundPaymentValidator : AbstractValidator<RefundPayment>
{
    public RefundPaymentValidator()
    {
        RuleFor(r => r.Amount).GreaterThan(0m).WithMessage("A refund must be more than zero.").When(r => r.Amount is not null);
        RuleFor(r => r.Reason).CreditReason();
        RuleFor(r => r.Memo).MaximumLength(500).WithMessage("The memo is at most 500 characters.").NoControlCharacters();
    }
}

public sealed class IssueCreditNoteValidator : AbstractValidator<IssueCreditNote>
{
    public const int MaxLines = 20;

    public IssueCreditNoteValidator()
    {
        RuleFor(n => n.Lines).NotEmpty().WithMessage("A credit note needs at least one line.")
            .Must(lines => lines!.Count <= MaxLines).WithMessage($"A credit note has at most {MaxLines} lines.");
        RuleForEach(n => n.Lines).ChildRules(line =>
        {
            line.RuleFor(l => l.Description).NotEmpty().WithMessage("Every line needs a description.")
                .MaximumLength(300).WithMessage("A line's description is at most 300 characters.").NoControlCharacters();
            line.RuleFor(l => l.Amount).NotNull().WithMessage("Every line needs an amount.")
                .GreaterThan(0m).WithMessage("A line's amount must be more than zero.");
        });
        RuleFor(n => n.Reason).CreditReason();
        RuleFor(n => n.Memo).MaximumLength(500).WithMessage("The memo is at most 500 characters.").NoControlCharacters();
    }
}

public sealed class AdjustBalanceValidator : AbstractValidator<AdjustBalance>
{
    public AdjustBalanceValidator()
    {
        RuleFor(a => a.Direction).Must(d => BalanceDirections.All.Contains(d!)).WithMessage("The direction is credit or debit.");
        RuleFor(a => a.Amount).NotNull().WithMessage("Give the amount.")
            .GreaterThan(0m).WithMessage("The amount must be more than zero.");
        RuleFor(a => a.Currency).KnownCurrency().When(a => a.Currency is not null);
    }
}

public sealed class CreateOneOffInvoiceValidator : AbstractValidator<CreateOneOffInvoice>
{
    public const int MaxLines = 50;

    public CreateOneOffInvoiceValidator()
    {
        RuleFor(i => i.Lines).NotEmpty().WithMessage("An invoice needs at least one line.")
            .Must(lines => lines!.Count <= MaxLines).WithMessage($"An invoice has at most {MaxLines} lines.");
        RuleForEach(i => i.Lines).ChildRules(line =>
        {
            line.RuleFor(l => l.Description).NotEmpty().WithMessage("Every line needs a description.")
                .MaximumLength(300).WithMessage("A line's description is at most 300 characters.").NoControlCharacters();
            line.RuleFor(l => l.Quantity).NotNull().WithMessage("Every line needs a quantity.").Quantity();
            line.RuleFor(l => l.UnitPrice).NotNull().WithMessage("Every line needs a unit price.")
                .GreaterThanOrEqualTo(0m).WithMessage("A unit price is not negative: credit the customer's balance instead.")
                .LessThanOrEqualTo(MaxUnitPrice).WithMessage($"A unit price is at most {MaxUnitPrice:N0}.");
        });
        RuleFor(i => i.Collection).Must(c => OneOffCollections.All.Contains(c!)).WithMessage("The collection is charge_now or send_invoice.");
        RuleFor(i => i.DaysUntilDue).NotNull().WithMessage("Sending an invoice needs the days until it is due.")
            .InclusiveBetween(0, Customer.MaxDaysUntilDue).WithMessage($"The days until due are from 0 to {Customer.MaxDaysUntilDue}.")
            .When(i => i.Collection == OneOffCollections.SendInvoice);
        RuleFor(i => i.DaysUntilDue).Null().WithMessage("Days until due go with send_invoice only: a charged invoice is charged at once.")
            .When(i => i.Collection == OneOffCollections.ChargeNow);
        RuleFor(i => i.Currency).KnownCurrency().When(i => i.Currency is not null);
    }

    /// <summary>Keeps line amounts (unit price × quantity) well inside numeric(19,4).</summary>
    public const decimal MaxUnitPrice = 1_000_000_000m;
}

internal static class ValidationRules
{
    /// <summary>One of <see cref="CreditReasons.All"/>.</summary>
    public static IRuleBuilderOptions<T, string?> CreditReason<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(reason => CreditReasons.All.Contains(reason!)).WithMessage($"The reason is one of {string.Join(", ", CreditReasons.All)}.");

    public const int MaxQuantity = 10_000;

    public static IRuleBuilderOptions<T, string?> CustomerName<T>(this IRuleBuilder<T, string?> rule) =>
        rule.MaximumLength(200).WithMessage("The name is at most 200 characters.");

    public static IRuleBuilderOptions<T, string?> EmailShape<T>(this IRuleBuilder<T, string?> rule) =>
        rule.MaximumLength(320).Matches(@"^[^@\s]+@[^@\s]+\.[^@\s.]+$").WithMessage("The email address is not valid (name@example.com).");

    public static IRuleBuilderOptions<T, string?> KnownCurrency<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(Currencies.IsKnown).WithMessage($"The currency is one of {string.Join(", ", Currencies.All)}.");

    /// <summary>An IANA time zone id, or blank for the billing time zone.</summary>
    public static IRuleBuilderOptions<T, string?> CustomerTimeZone<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(id => string.IsNullOrWhiteSpace(id) || (id.Length <= 64 && BillingSettingsRules.IsTimeZone(id)))
            .WithMessage("Not a known time zone: use an IANA id such as 'Europe/Berlin' or 'America/New_York', or leave it empty for the billing time zone.");

    public static IRuleBuilderOptions<T, string?> CustomerTaxId<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(id => string.IsNullOrWhiteSpace(id) || Customer.TaxIdProblem(id) is null)
            .WithMessage((_, id) => Customer.TaxIdProblem(id!)!);

    /// <summary>A plan's or coupon's code: what upstream systems send, so kept to letters, digits, '-' and '_'.</summary>
    public static IRuleBuilderOptions<T, string?> CatalogCode<T>(this IRuleBuilder<T, string?> rule, string what) =>
        rule.Matches("^[A-Za-z0-9_-]{1,60}$").WithMessage($"A {what} code is 1 to 60 letters, digits, '-' or '_'.");

    public static IRuleBuilderOptions<T, int?> Quantity<T>(this IRuleBuilder<T, int?> rule) =>
        rule.InclusiveBetween(1, MaxQuantity).WithMessage($"The quantity is between 1 and {MaxQuantity:N0}.");

    /// <summary>The shared rule for text that is kept (<see cref="PlainText"/>): no NUL, broken Unicode or control characters but tab and line breaks.</summary>
    public static IRuleBuilderOptions<T, string?> NoControlCharacters<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(text => PlainText.Fault(text) is null).WithMessage((_, text) => PlainText.Explain(text));

    public static IRuleBuilderOptions<T, string?> NoCardNumber<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(text => !CardNumbers.LooksLikeCardNumber(text))
            .WithMessage("This looks like a card number. Send the gateway's token: card numbers must never reach this system.");
}

/// <summary>
/// The dunning policy form, field by field: first that everything is filled in and typed as numbers, then the policy's own
/// rules (<see cref="DunningPolicySettings.Validate"/>, the same ones a stored version must pass), each under its field.
/// </summary>
public sealed class SaveDunningPolicyValidator : AbstractValidator<SaveDunningPolicy>
{
    public SaveDunningPolicyValidator()
    {
        RuleFor(p => p.Mode).NotNull().WithMessage("Choose a retry mode: fixed days or statistical.");
        RuleFor(p => p.FixedIntervals).Must((p, _) => p.ParsedIntervals() is not null)
            .WithMessage("Retry days are whole numbers separated by commas, e.g. 1, 3, 5, 7.");
        RuleFor(p => p.AttemptBudget).NotNull().WithMessage("Give an attempt budget.");
        RuleFor(p => p.GracePeriodHours).NotNull().WithMessage("Give a grace period in hours (0 for none).");
        RuleFor(p => p.FinalNoticeDaysBefore).NotNull().WithMessage("Give the days before the final action for the final notice (0 for none).");
        RuleFor(p => p.FinalAction).NotNull().WithMessage("Choose a final action: cancel the subscription, mark it unpaid or mark the invoice uncollectible.");
        RuleFor(p => p.Ladder).Must(ladder => ladder.All(s => s.Day is not null)).WithMessage("Give every escalation step a day.");
        RuleForEach(p => p.HardDeclineCodes).Must(DeclineCodes.All.Contains).WithMessage("'{PropertyValue}' is not a decline code the gateway sends.");
        RuleFor(p => p.Reason).NotEmpty().WithMessage("Give a reason: it goes in the audit log.").MaximumLength(1000).NoControlCharacters();
        RuleFor(p => p).Custom((policy, context) =>
        {
            if (!policy.IsComplete) return;
            foreach (var (field, message) in policy.ToSettings().Validate())
                context.AddFailure(field == nameof(DunningPolicySettings.FixedIntervalsDays) ? nameof(SaveDunningPolicy.FixedIntervals) : field, message);
        });
    }
}

public sealed class SaveBillingSettingsValidator : AbstractValidator<SaveBillingSettings>
{
    public SaveBillingSettingsValidator(IOptionsMonitor<GatewayOptions> gateway)
    {
        RuleFor(s => s.RunSchedule).Cascade(CascadeMode.Stop).NoControlCharacters().Must(BillingSettingsRules.IsCron)
            .WithMessage("Not a cron expression: five fields, minute hour day-of-month month day-of-week, e.g. '5 0 * * *' for 00:05 daily.");
        RuleFor(s => s.TimeZone).Cascade(CascadeMode.Stop).NoControlCharacters().Must(BillingSettingsRules.IsTimeZone)
            .WithMessage("Not a known time zone: use an IANA id such as 'UTC', 'Europe/London' or 'America/New_York'.");
        RuleFor(s => s.InvoicePrefix).NotEmpty().WithMessage("Give an invoice number prefix.")
            .Matches("^[A-Z0-9-]{1,12}$").WithMessage("The prefix is 1–12 capital letters, digits or dashes, e.g. INV-.");
        RuleFor(s => s.TaxRatePercent).NotNull().WithMessage("Give a tax rate (0 for none).")
            .InclusiveBetween(0m, 100m).WithMessage("The tax rate is a percentage between 0 and 100.");
        RuleFor(s => s.GatewayMode).Must(mode => GatewayModes.All.Contains(mode!)).WithMessage("The gateway mode is sandbox or live.");
        RuleFor(s => s.SupportRefundLimit).NotNull().WithMessage("Give the most support may refund at once (0 leaves every refund to admins).")
            .InclusiveBetween(0m, 1_000_000m).WithMessage("The support refund limit is between 0 and 1,000,000.");
        RuleFor(s => s.GatewayMode).Must(_ => GatewayRouter.StripeConfigured(gateway.CurrentValue))
            .WithMessage("Stripe is not configured on this installation (Gateway:Stripe:ApiKey and Gateway:Stripe:ApiBase): set the live gateway's keys before switching to live.")
            .When(s => s.GatewayMode == GatewayModes.Live);
        RuleFor(s => s.Reason).NotEmpty().WithMessage("Give a reason: it goes in the audit log.").MaximumLength(1000).NoControlCharacters();
    }
}
