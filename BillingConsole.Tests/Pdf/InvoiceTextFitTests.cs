using BillingConsole.Domain.Common;
using BillingConsole.Pdf;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using static BillingConsole.Tests.Pdf.InvoiceDocumentTests;
using static BillingConsole.Tests.Pdf.InvoiceSamples;

namespace BillingConsole.Tests.Pdf;

/// <summary>
/// Nothing on an invoice is cut: the longest names, addresses, periods, references and amounts are printed in full, and every
/// piece of text stays inside the printable area and inside its own column.
/// </summary>
[PureTests]
public sealed class InvoiceTextFitTests
{
    private const double Slack = 0.5;

    public static TheoryData<string> EveryCurrency => new(Currencies.All);

    [Theory]
    [MemberData(nameof(EveryCurrency))]
    public void A_crowded_annual_invoice_is_printed_in_full_with_every_text_in_its_box(string currency)
    {
        var invoice = Crowded(currency);

        var pdf = Render(invoice, $"invoice-crowded-{currency.ToLowerInvariant()}");

        Assert.True(pdf.Pages.Count >= 2, $"{pdf.Pages.Count} page(s)");
        Assert.DoesNotContain("…", pdf.Squeezed);
        Shows(pdf, invoice.CustomerName, invoice.CustomerEmail, invoice.CustomerAddress.Line1, invoice.CustomerAddress.Line2!,
            $"{invoice.CustomerAddress.PostalCode} {invoice.CustomerAddress.City}", "France", $"VAT number {invoice.CustomerTaxId}",
            "Period15 Dec 2027 – 15 Dec 2028", $"Ref. {LongReference}", "VAT 20%");
        foreach (var line in invoice.Lines)
        {
            // Squeezed, since francs print as "CHF 1,234.00", two words.
            Shows(pdf, line.Description, Currencies.Format(new Money(line.Amount, currency)), Currencies.Format(new Money(line.UnitAmount, currency)));
        }
        Shows(pdf, $"Total{Currencies.Format(new Money(invoice.Total, currency))}");
        foreach (var page in pdf.Pages)
        {
            AssertLaidOutCleanly(page);
            AssertEveryRunInItsBox(page);
        }
    }

    [Theory]
    [InlineData("EUR")]
    [InlineData("JPY")]
    public void A_reverse_charged_invoice_prints_the_legal_mention_in_full_inside_the_totals_column(string currency)
    {
        var crowded = Crowded(currency);
        var invoice = Build(currency, [.. crowded.Lines.Select(l => l with { ReverseCharge = true })], taxRate: 0m, credit: 0m, status: "open") with
        {
            CustomerName = crowded.CustomerName, CustomerAddress = crowded.CustomerAddress, CustomerTaxId = crowded.CustomerTaxId,
            PeriodStart = crowded.PeriodStart, PeriodEnd = crowded.PeriodEnd,
        };

        var pdf = Render(invoice, $"invoice-reverse-charge-{currency.ToLowerInvariant()}");

        Assert.DoesNotContain("…", pdf.Squeezed);
        Shows(pdf, $"VAT number {invoice.CustomerTaxId}", $"VAT 0%{Currencies.Format(new Money(0m, currency))}", BillingConsole.Domain.Tax.TaxTable.ReverseChargeMention);
        foreach (var page in pdf.Pages)
        {
            AssertLaidOutCleanly(page);
            AssertEveryRunInItsBox(page);
        }
    }

    [Fact]
    public void An_invoice_at_two_rates_prints_each_rate_with_what_it_taxed()
    {
        var lines = new[] { Line("recurring", "Growth plan", 1, 100m, 100m), Line("one_off", "Printed manuals", 2, 25m, 50m) };
        var invoice = Build("EUR", lines, taxRate: 0m, credit: 0m, status: "open") with
        {
            Lines = [lines[0] with { TaxRate = 0.19m, TaxAmount = 19m }, lines[1] with { TaxRate = 0.07m, TaxAmount = 3.5m }],
            CustomerAddress = new("Friedrichstraße 100", null, "Berlin", "10117", "DE"),
        };

        var pdf = Render(invoice, "invoice-two-rates");

        Shows(pdf, "VAT 19%€19.00", "on €100.00", "VAT 7%€3.50", "on €50.00");
        foreach (var page in pdf.Pages)
        {
            AssertLaidOutCleanly(page);
            AssertEveryRunInItsBox(page);
        }
    }

    /// <summary>
    /// Above the line table, the seller and the buyer keep to the left half of the page and the invoice's facts and the amount
    /// due to the right half; in the table every run sits in one column, inside its padding; below it the payment terms and the
    /// totals keep to their own sides.
    /// </summary>
    private static void AssertEveryRunInItsBox(PageContent page)
    {
        var left = PdfCanvas.Margin;
        var right = page.Width - PdfCanvas.Margin;
        var middle = (left + right) / 2;
        var header = Word(page, "DESCRIPTION");
        PdfRectangle? subtotal = page.Words.Contains("Subtotal") ? Word(page, "Subtotal") : null;
        var columns = Columns(page);
        (string Name, double Left, double Right)[] halves = [("left half", left, middle), ("right half", middle, right)];
        (string Name, double Left, double Right)[] belowTable =
            [("payment terms", left, right - InvoiceDocument.TotalsWidth - 30), ("totals", right - InvoiceDocument.TotalsWidth, right)];

        foreach (var (text, box) in Runs(page).Where(r => r.Box.Bottom > PdfCanvas.FooterHeight))
        {
            var boxes = box.Bottom > header.Top + Slack ? halves
                : subtotal is null || box.Bottom > subtotal.Value.Top + Slack ? columns
                : belowTable;
            Assert.True(boxes.Any(b => box.Left >= b.Left - Slack && box.Right <= b.Right + Slack),
                $"'{text}' at x {box.Left:0.0}–{box.Right:0.0}, y {box.Bottom:0.0} is outside {string.Join(" and ", boxes.Select(b => b.Name))}");
        }
    }

    /// <summary>
    /// The line table's columns less their cells' padding, found from their headings: left-aligned headings start where their
    /// column's text may start, right-aligned ones end where it must end.
    /// </summary>
    private static (string Name, double Left, double Right)[] Columns(PageContent page)
    {
        var padding = InvoiceDocument.CellPadding;
        var description = Word(page, "DESCRIPTION").Left;
        var period = Word(page, "PERIOD").Left;
        var periodEnd = period - padding + InvoiceDocument.PeriodColumnWidth;
        var qty = Word(page, "QTY").Right;
        var unitPrice = Word(page, "UNIT PRICE").Right;
        var amount = Word(page, "AMOUNT").Right;
        return
        [
            ("description", description, period - 2 * padding), ("period", period, periodEnd - padding), ("quantity", periodEnd + padding, qty),
            ("unit price", qty + 2 * padding, unitPrice), ("amount", unitPrice + 2 * padding, amount),
        ];
    }

    private static PdfRectangle Word(PageContent page, string text) =>
        Runs(page).First(r => RenderedPdf.Squeeze(r.Text) == RenderedPdf.Squeeze(text)).Box;

    /// <summary>Each piece of text drawn by one operation, with the box around its letters.</summary>
    private static IEnumerable<(string Text, PdfRectangle Box)> Runs(PageContent page) =>
        page.Letters.Where(l => !string.IsNullOrWhiteSpace(l.Value)).GroupBy(l => l.TextSequence)
            .Select(run => (string.Concat(page.Letters.Where(l => l.TextSequence == run.Key).Select(l => l.Value)).Trim(), Union(run.ToList())));

    private static PdfRectangle Union(IReadOnlyList<Letter> letters) => new(
        letters.Min(l => l.BoundingBox.Left), letters.Min(l => l.BoundingBox.Bottom), letters.Max(l => l.BoundingBox.Right), letters.Max(l => l.BoundingBox.Top));

    private const string LongReference = "pi_3PqR8sT2xYzA7bC9dE1fG2hI3jK4lM5nO6pQ7rS8tU9vW0xYz";

    /// <summary>
    /// An annual invoice to a customer with a very long name, address and email, with long product names, a reference that is
    /// one long word, large quantities and the largest amounts a line can plausibly carry in this currency.
    /// </summary>
    private static InvoiceDetail Crowded(string currency)
    {
        var start = new DateTimeOffset(2027, 12, 15, 0, 0, 0, TimeSpan.Zero);
        var end = start.AddYears(1);
        var unit = currency == "JPY" ? 12_345_678m : 123_456.78m;
        var lines = Enumerable.Range(1, 26).Select(i => Line(i % 5 == 0 ? "one_off" : "recurring",
            (i % 4) switch
            {
                0 => $"Enterprise analytics platform, annual commitment {i}: unlimited dashboards, dedicated reporting workspace, premium "
                     + "support with a named technical account manager and quarterly business reviews",
                1 => $"Integration{i}-" + string.Concat(Enumerable.Repeat("DataWarehouseConnector", 6)),
                _ => $"Seat add-on {i}",
            },
            i == 1 ? 1_250_000 : i * 37, unit + i, (unit + i) * (i == 1 ? 1_250_000 : i * 37), start, end)).ToList();
        var invoice = Build(currency, lines, taxRate: 0.2m, credit: 0m, status: "paid") with
        {
            CustomerName = "Compagnie Générale de Logistique et de Transports Frigorifiques Internationaux du Grand Sud-Ouest et des Pyrénées SAS",
            CustomerEmail = "comptabilite.fournisseurs.factures-entrantes@compagnie-generale-logistique-transports-frigorifiques.example",
            CustomerAddress = new("Zone Industrielle des Grands Champs, Bâtiment C, Entrée 4, Quai de Chargement Nord, Porte 12",
                "À l'attention du Service Comptabilité Fournisseurs, Direction Administrative et Financière, 3e étage",
                "Saint-Rémy-de-Provence-sur-Durance", "13210", "FR"),
            CustomerTaxId = "FR 40 303 265 045",
            PeriodStart = start,
            PeriodEnd = end,
        };
        return invoice with
        {
            Attempts =
            [
                new PaymentAttemptRow(Guid.NewGuid(), invoice.Id, 1, "succeeded", "billing_run", invoice.Total, currency, null, null, LongReference,
                    Issued, Issued.AddSeconds(1), 800),
            ],
        };
    }
}
