using System.Globalization;
using BillingConsole.Configuration;
using BillingConsole.Domain.Customers;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace BillingConsole.Pdf;

/// <summary>What the customer's documents (invoice, credit note) share: colours, type, the seller's block, addresses and the footer.</summary>
internal static class DocumentStyle
{
    public static readonly XColor Ink = XColor.FromArgb(31, 41, 51);
    public static readonly XColor Muted = XColor.FromArgb(107, 114, 128);
    public static readonly XColor Accent = XColor.FromArgb(30, 58, 138);
    public static readonly XColor RuleColor = XColor.FromArgb(209, 213, 219);
    public static readonly XColor Panel = XColor.FromArgb(243, 244, 246);

    public static XFont Font(double size, bool bold = false) =>
        new(EmbeddedFontResolver.Family, size, bold ? XFontStyleEx.Bold : XFontStyleEx.Regular);

    /// <summary>The seller's name, address and tax number from the Billing section; returns the bottom of the block.</summary>
    public static double Seller(PdfCanvas canvas, BillingOptions billing, double top, double width)
    {
        var y = top;
        y += canvas.Block(billing.SellerName, Font(12, bold: true), new XSolidBrush(Ink), canvas.Left, y, width) + 3;
        var body = Font(9);
        var muted = new XSolidBrush(Muted);
        foreach (var line in billing.SellerAddress.Where(l => !string.IsNullOrWhiteSpace(l)))
            y += canvas.Block(line, body, muted, canvas.Left, y, width);
        if (!string.IsNullOrWhiteSpace(billing.SellerTaxId))
            y += canvas.Block($"Tax ID {billing.SellerTaxId}", body, muted, canvas.Left, y + 2, width) + 2;
        return y;
    }

    /// <summary>The customer's block under <paramref name="label"/> (name, address, email, tax number); returns its bottom.</summary>
    public static double Customer(PdfCanvas canvas, string label, string name, CustomerAddress address, string email, string? taxId, double top)
    {
        var width = canvas.ContentWidth * 0.5;
        var (body, bold, ink) = (Font(9), Font(9, bold: true), new XSolidBrush(Ink));
        var smallBold = Font(7.5, bold: true);
        canvas.Text(label, smallBold, new XSolidBrush(Muted), canvas.Left, top, width);
        var y = top + PdfCanvas.LineHeight(smallBold) + 3;
        y += canvas.Block(name, bold, ink, canvas.Left, y, width) + 1;
        foreach (var line in AddressLines(address).Append(email))
            y += canvas.Block(line, body, ink, canvas.Left, y, width);
        if (taxId is { Length: > 0 })
            y += canvas.Block(TaxNumber(address, taxId), body, ink, canvas.Left, y + 2, width) + 2;
        return y;
    }

    /// <summary>The shaded panel level with the customer's block: a label, the amount large, a note under it; returns its bottom.</summary>
    public static double AmountPanel(PdfCanvas canvas, string label, string amount, string note, double top)
    {
        // The panel's first line sits level with the customer block's label.
        const double panelWidth = 200, inset = 12;
        var panel = new XRect(canvas.Right - panelWidth, top - inset, panelWidth, 68);
        canvas.Fill(panel, Panel);
        var inner = panel.Width - 2 * inset;
        var muted = new XSolidBrush(Muted);
        canvas.Text(label, Font(7.5, bold: true), muted, panel.X + inset, top, inner);
        canvas.Text(amount, Font(17, bold: true), new XSolidBrush(Ink), panel.X + inset, top + 12, inner);
        canvas.Text(note, Font(7.5), muted, panel.X + inset, top + 36, inner);
        return panel.Bottom;
    }

    /// <summary>Countries whose addresses put the postal code before the city.</summary>
    private static readonly HashSet<string> PostalCodeFirst = ["AT", "BE", "CH", "DE", "DK", "ES", "FI", "FR", "IT", "NL", "NO", "PL", "PT", "SE"];

    /// <summary>Customers in these countries are charged VAT, and their tax number is a VAT number.</summary>
    private static readonly HashSet<string> VatCountries =
    [
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL",
        "PT", "RO", "SE", "SI", "SK", "GB", "CH", "NO", "IS", "LI",
    ];

    public static bool IsVatCountry(CustomerAddress address) => VatCountries.Contains(address.Country.ToUpperInvariant());

    private static string TaxNumber(CustomerAddress address, string taxId) => IsVatCountry(address) ? $"VAT number {taxId}" : $"Tax ID {taxId}";

    private static IEnumerable<string> AddressLines(CustomerAddress address)
    {
        var city = PostalCodeFirst.Contains(address.Country.ToUpperInvariant())
            ? $"{address.PostalCode} {address.City}"
            : $"{address.City} {address.PostalCode}";
        return new[] { address.Line1, address.Line2, city.Trim(), CountryName(address.Country) }
            .Where(line => !string.IsNullOrWhiteSpace(line)).Select(line => line!);
    }

    private static string CountryName(string code)
    {
        if (string.IsNullOrWhiteSpace(code)) return string.Empty;
        try
        {
            return new RegionInfo(code).EnglishName;
        }
        catch (ArgumentException)
        {
            return code;
        }
    }

    /// <summary>Drawn after the content, when the number of pages is known: the instructions, the document's identity and "Page n of N".</summary>
    public static void Footers(PdfDocument document, IReadOnlyList<string> instructions, string identity)
    {
        var small = Font(7.5);
        var smallBold = Font(7.5, bold: true);
        var muted = new XSolidBrush(Muted);
        for (var index = 0; index < document.PageCount; index++)
        {
            var page = document.Pages[index];
            using var graphics = XGraphics.FromPdfPage(page, XGraphicsPdfPageOptions.Append);
            var left = PdfCanvas.Margin;
            var width = page.Width.Point - 2 * PdfCanvas.Margin;
            var y = page.Height.Point - PdfCanvas.FooterHeight;
            graphics.DrawLine(new XPen(RuleColor, 0.5), left, y, left + width, y);
            y += 7;
            foreach (var line in instructions)
            {
                PdfCanvas.DrawLine(graphics, line, small, muted, left, y, width, Align.Left);
                y += PdfCanvas.LineHeight(small);
            }
            y = page.Height.Point - 32;
            PdfCanvas.DrawLine(graphics, identity, small, muted, left, y, width * 0.7, Align.Left);
            PdfCanvas.DrawLine(graphics, $"Page {index + 1} of {document.PageCount}", smallBold, muted, left, y, width, Align.Right);
        }
    }
}
