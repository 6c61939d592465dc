using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using BillingConsole.Domain.Common;
using BillingConsole.Engine.PayPage;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;

namespace BillingConsole.PayPage;

/// <summary>The seller as the pay page introduces it (Billing:SellerName and SellerAddress).</summary>
public sealed record Seller(string Name, IReadOnlyList<string> Address);

/// <summary>What Stripe.js needs to confirm the customer's held payments: the publishable key, each PaymentIntent's client secret, and this answer's script nonce.</summary>
public sealed record StripeConfirmation(string PublishableKey, IReadOnlyList<string> ClientSecrets, string Nonce);

/// <summary>
/// The customer's pay page as HTML: one small self-contained document per answer, styles inline (which the console's
/// Content-Security-Policy allows), laid out to read on a 390 px phone. Every value is HTML-encoded. No script, except in
/// Stripe mode to confirm a payment the bank holds, with Stripe's own client script.
/// </summary>
public static class PayPageHtml
{
    public const string CardField = "card";

    /// <summary>Stripe's client script, which the page loads only to confirm a payment in Stripe mode.</summary>
    public const string StripeJsUrl = "https://js.stripe.com/v3";

    /// <param name="stripe">In Stripe mode, for payments the bank holds for the customer's authentication: how Stripe.js confirms them.</param>
    public static string Form(PayPageView page, Seller seller, string token, string antiforgeryField, string antiforgeryToken, string? error = null,
        StripeConfirmation? stripe = null)
    {
        var body = new StringBuilder();
        body.Append(Introduction(page, seller));
        var toConfirm = string.Join(", ", page.Invoices.Where(i => i.AwaitingAuthentication).Select(i => i.Number));
        if (page.Gateway == StripeGateway.GatewayName)
        {
            if (toConfirm.Length > 0) body.Append(StripeConfirmForm(token, antiforgeryField, antiforgeryToken, toConfirm, stripe));
            body.Append($"""
                <form method="post" action="/pay/{E(token)}/stripe">
                  <input type="hidden" name="{E(antiforgeryField)}" value="{E(antiforgeryToken)}">
                  <p>Your new card is entered on Stripe's secure page; you come back here afterwards.</p>
                  <button type="submit">Add a card with Stripe</button>
                </form>
                """);
            return Document("Update your payment method", body.ToString());
        }
        if (error is not null) body.Append($"<p class=\"error\" role=\"alert\">{E(error)}</p>");
        if (toConfirm.Length > 0)
        {
            body.Append(ConfirmForm(token, antiforgeryField, antiforgeryToken, toConfirm, attributes: ""));
            body.Append("<p class=\"hint\">Or save another card:</p>");
        }
        body.Append($"""
            <form method="post" action="/pay/{E(token)}">
              <input type="hidden" name="{E(antiforgeryField)}" value="{E(antiforgeryToken)}">
              <label for="{CardField}">Sandbox card token</label>
              <input id="{CardField}" name="{CardField}" value="pm_ok_" autocomplete="off" autocapitalize="none" spellcheck="false" required maxlength="60" aria-describedby="card-hint">
              <p id="card-hint" class="hint">{E(SandboxGateway.CardTokenHint)}</p>
              <button type="submit">{(page.Invoices.Count == 0 ? "Save the card" : $"Save the card and pay {E(Currencies.Format(page.AmountDue))}")}</button>
            </form>
            """);
        return Document("Update your payment method", body.ToString());
    }

    private static string ConfirmForm(string token, string antiforgeryField, string antiforgeryToken, string invoices, string attributes) => $"""
        <form method="post" action="/pay/{E(token)}/confirm" id="confirm-payment"{attributes}>
          <input type="hidden" name="{E(antiforgeryField)}" value="{E(antiforgeryToken)}">
          <p>Your bank asks you to confirm the payment of {E(invoices)}.</p>
          <button type="submit">Confirm the payment</button>
        </form>
        """;

    /// <summary>
    /// Stripe.js confirms each held PaymentIntent (the bank's authentication opens in Stripe's frame); then the form is sent,
    /// and the server asks Stripe what came of it. A confirmation Stripe refuses is shown and nothing is sent.
    /// </summary>
    private static string StripeConfirmForm(string token, string antiforgeryField, string antiforgeryToken, string invoices, StripeConfirmation? stripe)
    {
        if (stripe is null)
            return Paragraph($"Your bank asks you to confirm the payment of {invoices}, which cannot be done on this page yet: the seller has not finished "
                             + "setting up payment confirmation. Add a card below instead, or contact the seller.");
        if (stripe.ClientSecrets.Count == 0) return string.Empty;
        var attributes = $" data-key=\"{E(stripe.PublishableKey)}\" data-secrets=\"{E(JsonSerializer.Serialize(stripe.ClientSecrets))}\"";
        return ConfirmForm(token, antiforgeryField, antiforgeryToken, invoices, attributes) + $$"""
            <p id="confirm-error" class="error" role="alert" hidden></p>
            <script src="{{StripeJsUrl}}" nonce="{{E(stripe.Nonce)}}"></script>
            <script nonce="{{E(stripe.Nonce)}}">
              document.getElementById('confirm-payment').addEventListener('submit', async event => {
                event.preventDefault();
                const form = event.target, button = form.querySelector('button'), error = document.getElementById('confirm-error');
                button.disabled = true;
                const stripe = Stripe(form.dataset.key);
                for (const secret of JSON.parse(form.dataset.secrets)) {
                  const result = await stripe.confirmCardPayment(secret);
                  if (result.error) {
                    error.textContent = result.error.message;
                    error.hidden = false;
                    button.disabled = false;
                    return;
                  }
                }
                form.submit();
              });
            </script>
            <p class="hint">Or save another card:</p>
            """;
    }

    /// <summary>What came of the card the customer gave, invoice by invoice.</summary>
    public static string Outcome(CardUpdate update, Seller seller, string? nextToken)
    {
        var body = new StringBuilder();
        body.Append($"<p class=\"seller\">{E(seller.Name)}</p>");
        body.Append($"<p>Your {E(update.Method.Brand)} card ending {E(update.Method.Last4)} is saved as your payment method.</p>");
        if (update.Charges.Count == 0) body.Append(Paragraph("Nothing was due, so nothing was charged."));
        var declined = false;
        foreach (var charge in update.Charges)
        {
            var (text, failed) = Describe(charge);
            declined |= failed;
            body.Append($"<p class=\"{(failed ? "error" : "ok")}\">{E(text)}</p>");
        }
        if (declined && nextToken is not null) body.Append($"<p><a href=\"/pay/{E(nextToken)}\">Try another card</a></p>");
        return Document(declined ? "Your card was declined" : "Thank you", body.ToString());
    }

    /// <summary>What came of confirming the payments the bank held.</summary>
    public static string Confirmed(IReadOnlyList<ChargeResult> payments, Seller seller)
    {
        var body = new StringBuilder($"<p class=\"seller\">{E(seller.Name)}</p>");
        if (payments.Count == 0) body.Append(Paragraph("No payment was confirmed: none was waiting, or your bank has not approved it. Nothing was changed."));
        foreach (var payment in payments)
        {
            var (text, failed) = Describe(payment);
            body.Append($"<p class=\"{(failed ? "error" : "ok")}\">{E(text)}</p>");
        }
        return Document("Thank you", body.ToString());
    }

    public static string Refused(PayPageRefusal refusal) => refusal switch
    {
        PayPageRefusal.Expired => Document("This link has expired",
            Paragraph("Links to this page last a few days. Ask the seller for a new one; nothing was changed.")),
        PayPageRefusal.Spent => Document("This link was already used",
            Paragraph("Your card was already replaced with this link. Ask the seller for a new one to change it again; nothing was changed.")),
        _ => Document("This link is not valid", Paragraph("Check that the whole link was copied from the message, or ask the seller for a new one; nothing was changed.")),
    };

    public static string Problem(string title, string sentence) => Document(title, Paragraph(sentence));

    private static (string Text, bool Failed) Describe(ChargeResult charge) => charge.Status switch
    {
        ChargeStatus.Succeeded => ("The invoice was paid.", false),
        ChargeStatus.Failed => ($"The card was declined: {charge.Message ?? charge.DeclineCode}", true),
        ChargeStatus.Refused => ("This invoice needed no payment.", false),
        _ => ("The payment could not be made just now; it is made again shortly, with nothing more for you to do.", false),
    };

    private static string Introduction(PayPageView page, Seller seller)
    {
        var html = new StringBuilder();
        html.Append($"<p class=\"seller\">{E(seller.Name)}");
        foreach (var line in seller.Address) html.Append($"<br>{E(line)}");
        html.Append("</p>");
        html.Append($"<p>Hello {E(page.CustomerName)}.");
        html.Append(page.Card is null ? " You have no card on file." : $" Your card on file is the {E(page.Card)}.");
        html.Append("</p>");
        if (page.Invoices.Count == 0)
        {
            html.Append(Paragraph("Nothing is due."));
            return html.ToString();
        }
        html.Append("<table><thead><tr><th>Invoice</th><th>Due</th><th class=\"amount\">Amount</th></tr></thead><tbody>");
        foreach (var invoice in page.Invoices)
        {
            var due = invoice.DueAt?.UtcDateTime.ToString("d MMM yyyy", CultureInfo.InvariantCulture) ?? "";
            html.Append($"<tr><td>{E(invoice.Number)}</td><td>{E(due)}</td><td class=\"amount\">{E(Currencies.Format(invoice.AmountDue))}</td></tr>");
        }
        html.Append($"</tbody><tfoot><tr><th colspan=\"2\">Amount due</th><th class=\"amount\">{E(Currencies.Format(page.AmountDue))}</th></tr></tfoot></table>");
        return html.ToString();
    }

    private static string Paragraph(string text) => $"<p>{E(text)}</p>";

    private static string E(string text) => HtmlEncoder.Default.Encode(text);

    private static string Document(string title, string body) => $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex">
        <title>{{E(title)}}</title>
        <style>
          body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933; background: #f4f5f7; }
          main { box-sizing: border-box; max-width: 560px; margin: 0 auto; padding: 24px 16px; }
          .card { background: #fff; border-radius: 8px; padding: 20px 16px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
          h1 { font-size: 1.35rem; margin: 0 0 12px; }
          .seller { color: #52606d; font-size: .9rem; }
          table { width: 100%; border-collapse: collapse; margin: 12px 0; }
          th, td { text-align: left; padding: 6px 4px; border-bottom: 1px solid #e4e7eb; }
          .amount { text-align: right; white-space: nowrap; }
          tfoot th { border-bottom: none; }
          label { display: block; font-weight: 600; margin-top: 12px; }
          input { box-sizing: border-box; width: 100%; font: inherit; padding: 10px; border: 1px solid #9aa5b1; border-radius: 6px; margin-top: 4px; }
          .hint { color: #52606d; font-size: .85rem; margin: 4px 0 12px; }
          button { width: 100%; font: inherit; font-weight: 600; padding: 12px; border: 0; border-radius: 6px; background: #1e4fd8; color: #fff; cursor: pointer; }
          .error { color: #ab091e; }
          .ok { color: #0e7c3a; }
        </style>
        </head>
        <body><main><div class="card"><h1>{{E(title)}}</h1>
        {{body}}
        </div></main></body>
        </html>
        """;
}
