using System.Globalization;
using BillingConsole.Engine.Commands;
using BillingConsole.GrpcApi.V1;
using Google.Protobuf.WellKnownTypes;

namespace BillingConsole.GrpcApi;

/// <summary>The API's views as the gRPC service's messages, and its requests as the engine's commands.</summary>
internal static class GrpcViews
{
    public static V1.Customer From(CustomerView c)
    {
        var message = new V1.Customer
        {
            Id = c.Id.ToString(), Name = c.Name, Email = c.Email, Currency = c.Currency, CreditBalance = Amount(c.CreditBalance),
            CreatedAt = Timestamp.FromDateTimeOffset(c.CreatedAt), CollectionMethod = c.CollectionMethod,
        };
        if (c.Address is { } a) message.Address = From(a);
        if (c.ExternalRef is { } externalRef) message.ExternalRef = externalRef;
        if (c.DaysUntilDue is { } days) message.DaysUntilDue = days;
        if (c.TimeZone is { } timeZone) message.TimeZone = timeZone;
        if (c.TaxId is { } taxId) message.TaxId = taxId;
        return message;
    }

    public static V1.Subscription From(SubscriptionView s)
    {
        var message = new V1.Subscription
        {
            Id = s.Id.ToString(), CustomerId = s.CustomerId.ToString(), PriceId = s.PriceId.ToString(), Quantity = s.Quantity, Status = s.Status,
            CurrentPeriodStart = Timestamp.FromDateTimeOffset(s.CurrentPeriodStart), CurrentPeriodEnd = Timestamp.FromDateTimeOffset(s.CurrentPeriodEnd),
            TrialEnd = Time(s.TrialEnd), CancelAtPeriodEnd = s.CancelAtPeriodEnd, CanceledAt = Time(s.CanceledAt), PausedAt = Time(s.PausedAt),
            CreatedAt = Timestamp.FromDateTimeOffset(s.CreatedAt),
        };
        if (s.PendingPriceId is { } pendingPrice) message.PendingPriceId = pendingPrice.ToString();
        if (s.PendingQuantity is { } pendingQuantity) message.PendingQuantity = pendingQuantity;
        return message;
    }

    public static V1.Invoice From(InvoiceView i)
    {
        var message = new V1.Invoice
        {
            Status = i.Status, Kind = i.Kind, CustomerId = i.CustomerId.ToString(), Currency = i.Currency,
            PeriodStart = Timestamp.FromDateTimeOffset(i.PeriodStart), PeriodEnd = Timestamp.FromDateTimeOffset(i.PeriodEnd),
            Lines = { i.Lines.Select(From) }, Subtotal = Amount(i.Subtotal), Tax = Amount(i.Tax), Total = Amount(i.Total),
            CreditApplied = Amount(i.CreditApplied), AmountDue = Amount(i.AmountDue), IssuedAt = Time(i.IssuedAt), DueAt = Time(i.DueAt),
        };
        if (i.Id is { } id) message.Id = id.ToString();
        if (i.Number is { } number) message.Number = number;
        if (i.SubscriptionId is { } subscriptionId) message.SubscriptionId = subscriptionId.ToString();
        return message;
    }

    public static V1.InvoicePage From(Engine.Commands.InvoicePage page)
    {
        var message = new V1.InvoicePage { Data = { page.Data.Select(From) }, HasMore = page.HasMore };
        if (page.NextCursor is { } cursor) message.NextCursor = cursor.ToString();
        return message;
    }

    public static V1.SubscriptionChange From(SubscriptionChangeView change) =>
        new() { Subscription = From(change.Subscription), Invoice = change.Invoice is { } invoice ? From(invoice) : null };

    public static V1.PlanChange From(PlanChangeView change) => new()
    {
        Quote = From(change.Quote),
        Invoice = change.Invoice is { } invoice ? From(invoice) : null,
        Subscription = From(change.Subscription),
    };

    private static PlanChangeQuote From(PlanChangeQuoteView q) => new()
    {
        FromPriceId = q.FromPriceId.ToString(), FromQuantity = q.FromQuantity, ToPriceId = q.ToPriceId.ToString(), ToQuantity = q.ToQuantity,
        IsUpgrade = q.IsUpgrade, Behavior = q.Behavior, QuotedAt = Timestamp.FromDateTimeOffset(q.QuotedAt),
        EffectiveAt = Timestamp.FromDateTimeOffset(q.EffectiveAt), Currency = q.Currency, Lines = { q.Lines.Select(From) }, Net = Amount(q.Net),
    };

    private static V1.InvoiceLine From(InvoiceLineView l)
    {
        var message = new V1.InvoiceLine
        {
            Kind = l.Kind, Description = l.Description, Quantity = l.Quantity, UnitAmount = Amount(l.UnitAmount), Amount = Amount(l.Amount),
            PeriodStart = Timestamp.FromDateTimeOffset(l.PeriodStart), PeriodEnd = Timestamp.FromDateTimeOffset(l.PeriodEnd),
        };
        if (l.PriceId is { } priceId) message.PriceId = priceId.ToString();
        return message;
    }

    private static Address From(AddressView a)
    {
        var message = new Address { Line1 = a.Line1, City = a.City, PostalCode = a.PostalCode, Country = a.Country };
        if (a.Line2 is { } line2) message.Line2 = line2;
        return message;
    }

    public static CreateCustomer ToCommand(CreateCustomerRequest r) => new(Text(r.Name), Text(r.Email), Text(r.Currency), ToInput(r.Address),
        r.HasExternalRef ? r.ExternalRef : null, r.HasCollectionMethod ? r.CollectionMethod : null, r.HasDaysUntilDue ? r.DaysUntilDue : null,
        r.HasTimeZone ? r.TimeZone : null, r.HasTaxId ? r.TaxId : null);

    public static UpdateCustomer ToCommand(UpdateCustomerRequest r) => new(r.HasName ? r.Name : null, r.HasEmail ? r.Email : null,
        r.HasCurrency ? r.Currency : null, ToInput(r.Address), r.HasExternalRef ? r.ExternalRef : null, r.HasCollectionMethod ? r.CollectionMethod : null,
        r.HasDaysUntilDue ? r.DaysUntilDue : null, r.HasTimeZone ? r.TimeZone : null, r.HasTaxId ? r.TaxId : null);

    public static CreateSubscription ToCommand(CreateSubscriptionRequest r) => new(OptionalId(r.CustomerId, "customer_id"),
        OptionalId(r.PriceId, "price_id"), r.HasQuantity ? r.Quantity : null, r.HasTrialDays ? r.TrialDays : null);

    public static ChangePlan ToCommand(ChangePlanRequest r) => new(r.HasPriceId ? OptionalId(r.PriceId, "price_id") : null,
        r.HasQuantity ? r.Quantity : null, r.HasBehavior ? r.Behavior : null, r.ProrationDate?.ToDateTimeOffset());

    /// <summary>A required id: a UUID, or INVALID_ARGUMENT naming the field.</summary>
    public static Guid Id(string text, string field) =>
        OptionalId(text, field) ?? throw Invalid(field, "Give the id, a UUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301.");

    /// <summary>Empty is left out; anything else must be a UUID.</summary>
    public static Guid? OptionalId(string text, string field) =>
        text.Length == 0 ? null : Guid.TryParse(text, out var id) ? id : throw Invalid(field, $"'{text}' is not a UUID.");

    private static FluentValidation.ValidationException Invalid(string field, string message) =>
        new([new FluentValidation.Results.ValidationFailure(field, message)]);

    private static AddressInput? ToInput(Address? a) =>
        a is null ? null : new AddressInput(Text(a.Line1), a.HasLine2 ? a.Line2 : null, Text(a.City), Text(a.PostalCode), Text(a.Country));

    /// <summary>proto3 has no null string: an empty one is a field left out, which the validator then names.</summary>
    private static string? Text(string value) => value.Length == 0 ? null : value;

    private static string Amount(decimal amount) => amount.ToString(CultureInfo.InvariantCulture);

    private static Timestamp? Time(DateTimeOffset? at) => at is { } value ? Timestamp.FromDateTimeOffset(value) : null;
}
