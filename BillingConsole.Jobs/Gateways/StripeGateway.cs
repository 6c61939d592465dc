using System.Diagnostics;
using System.Globalization;
using System.Net;
using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stripe;

namespace BillingConsole.Gateways;

/// <summary>
/// Charges through Stripe's API with the official client: an off-session PaymentIntent created and confirmed in one call,
/// sent with our idempotency key as Stripe's Idempotency-Key, so a repeated call returns the first answer.
/// </summary>
/// <remarks>
/// <para>Stored payment method tokens are "cus_…/pm_…": the Stripe customer and the card saved on it, which is what an
/// off-session charge needs.</para>
/// <para>Looking up an attempt: Stripe cannot be asked what it did with an idempotency key, and an attempt whose call timed
/// out has no intent id to fetch. So every intent carries the key in its metadata and the look-up searches for it
/// (<c>GET /v1/payment_intents/search</c>). Search is eventually consistent (Stripe indexes within about a minute), so
/// "not found" may be a charge not yet indexed; that is still safe, because the processor then sends the attempt again
/// under the same Idempotency-Key, and Stripe answers a key it has seen (for 24 hours, far longer than indexing takes)
/// with the first result instead of charging again.</para>
/// <para>No retries inside the client: the processor's deadline and reconciliation decide what happens after a failure.</para>
/// </remarks>
public sealed class StripeGateway : IPaymentGateway
{
    public const string GatewayName = "stripe";
    /// <summary>The metadata field holding our idempotency key, searched by <see cref="LookupAsync"/>.</summary>
    public const string KeyMetadata = "idempotency_key";

    private readonly StripeClient _client;
    private readonly ILogger<StripeGateway> _logger;

    public StripeGateway(IOptions<GatewayOptions> options, ILogger<StripeGateway> logger)
    {
        var stripe = options.Value.Stripe;
        // The processor cancels at its deadline; the client's own timeout only stops a call nobody waits for any more.
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = TimeSpan.FromMilliseconds(options.Value.ChargeTimeoutMs * 2L),
        };
        _client = new StripeClient(new StripeClientOptions
        {
            ApiKey = stripe.ApiKey,
            ApiBase = stripe.ApiBase.TrimEnd('/'),
            HttpClient = new SystemNetHttpClient(http, maxNetworkRetries: 0, appInfo: null, enableTelemetry: false),
        });
        _logger = logger;
    }

    public string Name => GatewayName;

    public async Task<GatewayChargeResult> ChargeAsync(GatewayChargeRequest request, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        if (!TryParseToken(request.PaymentMethodToken, out var customer, out var paymentMethod))
            return GatewayChargeResult.Declined(DeclineCodes.NoPaymentMethod, "The payment method is not a Stripe card (cus_…/pm_…).", null, TimeSpan.Zero);
        var create = new PaymentIntentCreateOptions
        {
            Amount = MinorUnits(request.Amount),
            Currency = request.Amount.Currency.ToLowerInvariant(),
            Customer = customer,
            PaymentMethod = paymentMethod,
            Confirm = true,
            OffSession = true,
            Description = request.Description,
            Metadata = new Dictionary<string, string>
            {
                [KeyMetadata] = request.IdempotencyKey,
                ["invoice_id"] = request.InvoiceId.ToString(),
                ["invoice_number"] = request.InvoiceNumber ?? string.Empty,
                ["customer_id"] = request.CustomerId.ToString(),
            },
        };
        try
        {
            var intent = await _client.V1.PaymentIntents.CreateAsync(create, new RequestOptions { IdempotencyKey = request.IdempotencyKey }, ct);
            return FromIntent(intent, Stopwatch.GetElapsedTime(started));
        }
        catch (StripeException e) when (e.StripeError?.Type == "card_error")
        {
            return GatewayChargeResult.Declined(MapDeclineCode(e.StripeError.DeclineCode ?? e.StripeError.Code), e.StripeError.Message ?? "Your card was declined.",
                e.StripeError.PaymentIntent?.Id, Stopwatch.GetElapsedTime(started));
        }
        catch (StripeException e) when (e.StripeError?.Code == "resource_missing" && e.StripeError.Param is "customer" or "payment_method")
        {
            return GatewayChargeResult.Declined(DeclineCodes.NoPaymentMethod, e.StripeError.Message ?? "Stripe does not know the card.", null,
                Stopwatch.GetElapsedTime(started));
        }
        catch (StripeException e) when (OutcomeUnknown(e))
        {
            return Unknown("charge", request.IdempotencyKey, e, started);
        }
    }

    public async Task<GatewayChargeResult?> LookupAsync(GatewayLookupRequest request, CancellationToken ct)
    {
        var idempotencyKey = request.IdempotencyKey;
        var started = Stopwatch.GetTimestamp();
        var search = new PaymentIntentSearchOptions { Query = $"metadata['{KeyMetadata}']:'{idempotencyKey.Replace("'", "\\'", StringComparison.Ordinal)}'" };
        try
        {
            var found = await _client.V1.PaymentIntents.SearchAsync(search, null, ct);
            // One key makes one intent; were there more, the one that took money is the one that matters.
            var intent = found.Data.OrderByDescending(i => i.Status == "succeeded").FirstOrDefault();
            return intent is null ? null : FromIntent(intent, Stopwatch.GetElapsedTime(started));
        }
        catch (StripeException e) when (OutcomeUnknown(e))
        {
            return Unknown("look-up", idempotencyKey, e, started);
        }
    }

    public async Task<GatewayRefundResult> RefundAsync(GatewayRefundRequest request, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var create = new RefundCreateOptions
        {
            PaymentIntent = request.ChargeReference,
            Amount = MinorUnits(request.Amount),
            // Stripe's own reason field takes only its three words; ours goes in the metadata.
            Metadata = new Dictionary<string, string> { ["reason"] = request.Reason, [KeyMetadata] = request.IdempotencyKey },
        };
        try
        {
            var refund = await _client.V1.Refunds.CreateAsync(create, new RequestOptions { IdempotencyKey = request.IdempotencyKey }, ct);
            var status = RefundStatusOf(refund.Status);
            return new GatewayRefundResult(status, refund.Id, status == GatewayRefundStatus.Failed ? refund.FailureReason ?? $"The refund is {refund.Status}." : null,
                Stopwatch.GetElapsedTime(started));
        }
        catch (StripeException e) when (e.StripeError is not null && !OutcomeUnknown(e))
        {
            return new GatewayRefundResult(GatewayRefundStatus.Failed, null, e.StripeError.Message ?? e.Message, Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>A Stripe refund's status: succeeded; pending or requires_action (not final yet); failed or canceled.</summary>
    public static GatewayRefundStatus RefundStatusOf(string? status) => status switch
    {
        "succeeded" => GatewayRefundStatus.Succeeded,
        "pending" or "requires_action" => GatewayRefundStatus.Pending,
        _ => GatewayRefundStatus.Failed,
    };

    /// <summary>The metadata field naming our customer on the Stripe customer, Checkout Session and SetupIntent a card is saved through.</summary>
    public const string CustomerMetadata = "customer_id";

    /// <summary>
    /// A Stripe Checkout Session in <c>setup</c> mode, where the customer saves a card on Stripe's own page for later
    /// off-session charges; returns the page's URL. Our customer id rides in the SetupIntent's metadata, so the
    /// <c>setup_intent.succeeded</c> webhook knows whose card it is. A customer without a Stripe customer yet gets one.
    /// </summary>
    public async Task<string> StartCardSetupAsync(StripeCardSetup setup, CancellationToken ct)
    {
        var metadata = new Dictionary<string, string> { [CustomerMetadata] = setup.CustomerId.ToString() };
        var customer = setup.StripeCustomer
                       ?? (await _client.V1.Customers.CreateAsync(new CustomerCreateOptions { Email = setup.Email, Name = setup.Name, Metadata = metadata },
                           null, ct)).Id;
        var session = await _client.V1.Checkout.Sessions.CreateAsync(new Stripe.Checkout.SessionCreateOptions
        {
            Mode = "setup",
            Customer = customer,
            // Setup mode with Stripe's dynamic payment methods asks for the currency the saved method will be charged in.
            Currency = setup.Currency.ToLowerInvariant(),
            SuccessUrl = setup.ReturnUrl,
            CancelUrl = setup.ReturnUrl,
            Metadata = metadata,
            SetupIntentData = new Stripe.Checkout.SessionSetupIntentDataOptions { Metadata = metadata },
        }, null, ct);
        return session.Url;
    }

    /// <summary>The card a succeeded SetupIntent saved, as a stored token "cus_…/pm_…" with its details, and whose it is.</summary>
    public async Task<StripeSavedCard> SavedCardAsync(string setupIntentId, CancellationToken ct)
    {
        var intent = await _client.V1.SetupIntents.GetAsync(setupIntentId, new SetupIntentGetOptions { Expand = ["payment_method"] }, null, ct);
        var card = intent.PaymentMethod?.Card;
        Guid? customerId = intent.Metadata.TryGetValue(CustomerMetadata, out var id) && Guid.TryParse(id, out var parsed) ? parsed : null;
        if (intent.Status != "succeeded" || card is null || intent.CustomerId is null)
            return new StripeSavedCard(customerId, null, string.Empty, string.Empty, 0, 0);
        return new StripeSavedCard(customerId, $"{intent.CustomerId}/{intent.PaymentMethod!.Id}", card.Brand, card.Last4, (int)card.ExpMonth, (int)card.ExpYear);
    }

    /// <summary>
    /// The PaymentIntent of a charge: its status, and the client secret with which Stripe.js on the customer's pay page
    /// confirms it when the bank wants the customer to authenticate it (<c>requires_action</c>).
    /// </summary>
    public async Task<StripePaymentIntent> PaymentIntentAsync(string intentId, CancellationToken ct)
    {
        var intent = await _client.V1.PaymentIntents.GetAsync(intentId, null, null, ct);
        return new StripePaymentIntent(intent.Id, intent.Status, intent.ClientSecret);
    }

    /// <summary>Stripe's decline codes (or error codes, when a decline has none) in our vocabulary; anything else is a generic soft decline.</summary>
    public static string MapDeclineCode(string? stripeCode) => stripeCode switch
    {
        "insufficient_funds" or "card_velocity_exceeded" or "withdrawal_count_limit_exceeded" => DeclineCodes.InsufficientFunds,
        "do_not_honor" => DeclineCodes.DoNotHonor,
        "try_again_later" or "processing_error" or "issuer_not_available" or "reenter_transaction" => DeclineCodes.TryAgainLater,
        "expired_card" => DeclineCodes.ExpiredCard,
        "lost_card" or "pickup_card" => DeclineCodes.LostCard,
        "stolen_card" => DeclineCodes.StolenCard,
        "fraudulent" or "merchant_blacklist" => DeclineCodes.Fraudulent,
        "account_closed" or "invalid_account" or "new_account_information_available" => DeclineCodes.AccountClosed,
        "authentication_required" => DeclineCodes.AuthenticationRequired,
        _ => DeclineCodes.GenericDecline,
    };

    /// <summary>The customer and card ids of a stored token "cus_…/pm_…".</summary>
    public static bool TryParseToken(string token, out string customer, out string paymentMethod)
    {
        var parts = token.Split('/');
        (customer, paymentMethod) = parts.Length == 2 ? (parts[0], parts[1]) : (string.Empty, string.Empty);
        return customer.StartsWith("cus_", StringComparison.Ordinal) && paymentMethod.StartsWith("pm_", StringComparison.Ordinal);
    }

    private static GatewayChargeResult FromIntent(PaymentIntent intent, TimeSpan latency) => intent.Status switch
    {
        "succeeded" => GatewayChargeResult.Succeeded(intent.Id, latency),
        // Still moving (a card network answering late): the look-up asks again later.
        "processing" => GatewayChargeResult.Unknown(latency),
        // Off session nobody can complete 3-D Secure: the customer confirms this intent on their pay page, and its
        // payment_intent.succeeded webhook settles the attempt.
        "requires_action" => GatewayChargeResult.Declined(DeclineCodes.AuthenticationRequired, "The bank asked the customer to authenticate the payment.", intent.Id, latency),
        _ => GatewayChargeResult.Declined(MapDeclineCode(intent.LastPaymentError?.DeclineCode ?? intent.LastPaymentError?.Code),
            intent.LastPaymentError?.Message ?? $"The payment is {intent.Status}.", intent.Id, latency),
    };

    /// <summary>
    /// Stripe's own failures (5xx), a key still being processed (409) and rate limiting (429) say nothing about whether the
    /// card was charged; the attempt stays unknown until a look-up settles it.
    /// </summary>
    private static bool OutcomeUnknown(StripeException e) =>
        e.StripeError is null || (int)e.HttpStatusCode >= 500 || e.HttpStatusCode is HttpStatusCode.Conflict or HttpStatusCode.TooManyRequests;

    private GatewayChargeResult Unknown(string call, string idempotencyKey, StripeException e, long started)
    {
        _logger.LogWarning("Stripe answered the {Call} of key {IdempotencyKey} with HTTP {Status} ({StripeError}); the outcome is unknown",
            call, idempotencyKey, (int)e.HttpStatusCode, e.StripeError?.Type ?? "no error body");
        return GatewayChargeResult.Unknown(Stopwatch.GetElapsedTime(started));
    }

    /// <summary>An amount as Stripe writes it (integer minor units, lower-case currency) as Money.</summary>
    public static Money FromMinorUnits(long minor, string currency) =>
        new(minor / (decimal)Math.Pow(10, Currencies.MinorUnits(currency)), Currencies.Normalize(currency));

    private static long MinorUnits(Money amount)
    {
        var minor = amount.Amount * (decimal)Math.Pow(10, Currencies.MinorUnits(amount.Currency));
        if (minor != decimal.Truncate(minor))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{amount} is not a whole number of minor units."), nameof(amount));
        return (long)minor;
    }
}

/// <param name="StripeCustomer">The customer's Stripe customer (cus_…) from a card saved before; null to create one.</param>
/// <param name="ReturnUrl">Where Stripe sends the customer back to, done or not.</param>
public sealed record StripeCardSetup(Guid CustomerId, string? StripeCustomer, string Name, string Email, string Currency, string ReturnUrl);

/// <param name="Status">Stripe's status: <c>requires_action</c> while it waits for the customer, <c>succeeded</c> once paid.</param>
public sealed record StripePaymentIntent(string Id, string Status, string ClientSecret);

/// <param name="CustomerId">Our customer, from the SetupIntent's metadata; null when it carries none.</param>
/// <param name="Token">The stored token "cus_…/pm_…"; null when the SetupIntent saved no card.</param>
public sealed record StripeSavedCard(Guid? CustomerId, string? Token, string Brand, string Last4, int ExpMonth, int ExpYear);
