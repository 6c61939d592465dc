namespace BillingConsole.Engine.Notifications;

/// <summary>
/// The fixed set of values every template can use (docs/notifications.md lists them). Each is text, already formatted
/// (amounts in their currency, dates in the customer's time zone); one that does not apply to an email is empty, so a
/// template may test it with <c>{% if next_retry_date != "" %}</c>. A name outside this set does not render.
/// </summary>
public sealed record NotificationVariables
{
    public string CustomerName { get; init; } = string.Empty;
    public string CustomerEmail { get; init; } = string.Empty;
    public string InvoiceNumber { get; init; } = string.Empty;
    public string InvoiceUrl { get; init; } = string.Empty;
    /// <summary>open, paid, void or uncollectible, when the email is sent.</summary>
    public string InvoiceStatus { get; init; } = string.Empty;
    public string InvoiceTotal { get; init; } = string.Empty;
    public string AmountDue { get; init; } = string.Empty;
    public string AmountPaid { get; init; } = string.Empty;
    public string DueDate { get; init; } = string.Empty;
    public string CardBrand { get; init; } = string.Empty;
    public string CardLast4 { get; init; } = string.Empty;
    public string CardExpiry { get; init; } = string.Empty;
    public string UpdateCardUrl { get; init; } = string.Empty;
    public string NextRetryDate { get; init; } = string.Empty;
    /// <summary>The day the dunning policy's final action comes for the invoice's open case (the ladder's final-action day).</summary>
    public string FinalActionDate { get; init; } = string.Empty;
    public string SellerName { get; init; } = string.Empty;
    public string SellerAddress { get; init; } = string.Empty;
    public string SellerTaxId { get; init; } = string.Empty;

    /// <summary>The values by the names templates use.</summary>
    public IReadOnlyDictionary<string, string> ByName() => new Dictionary<string, string>
    {
        ["customer_name"] = CustomerName,
        ["customer_email"] = CustomerEmail,
        ["invoice_number"] = InvoiceNumber,
        ["invoice_url"] = InvoiceUrl,
        ["invoice_status"] = InvoiceStatus,
        ["invoice_total"] = InvoiceTotal,
        ["amount_due"] = AmountDue,
        ["amount_paid"] = AmountPaid,
        ["due_date"] = DueDate,
        ["card_brand"] = CardBrand,
        ["card_last4"] = CardLast4,
        ["card_expiry"] = CardExpiry,
        ["update_card_url"] = UpdateCardUrl,
        ["next_retry_date"] = NextRetryDate,
        ["final_action_date"] = FinalActionDate,
        ["seller_name"] = SellerName,
        ["seller_address"] = SellerAddress,
        ["seller_tax_id"] = SellerTaxId,
    };

    /// <summary>Every variable filled, for checking a template before it is saved.</summary>
    public static readonly NotificationVariables Sample = new()
    {
        CustomerName = "Ada Lovelace",
        CustomerEmail = "ada@example.com",
        InvoiceNumber = "INV-001042",
        InvoiceUrl = "https://billing.example.com/pay/sample",
        InvoiceStatus = "open",
        InvoiceTotal = "$49.00",
        AmountDue = "$49.00",
        AmountPaid = "$49.00",
        DueDate = "14 December 2026",
        CardBrand = "Visa",
        CardLast4 = "4242",
        CardExpiry = "01/2027",
        UpdateCardUrl = "https://billing.example.com/pay/sample",
        NextRetryDate = "10 December 2026",
        FinalActionDate = "21 December 2026",
        SellerName = "BillingConsole Demo Ltd",
        SellerAddress = "1 Market Street, London",
        SellerTaxId = "GB123456789",
    };
}
