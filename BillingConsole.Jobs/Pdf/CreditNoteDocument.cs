using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Tax;
using BillingConsole.Engine;
using BillingConsole.ReadModels;
using PdfSharp.Drawing;
using PdfSharp.Pdf;
using static BillingConsole.Pdf.DocumentStyle;

namespace BillingConsole.Pdf;

/// <summary>
/// A credit note as the customer receives it, in the invoice's style: the seller, the customer, the invoice it credits and
/// why, its lines and total, what was done with the amount, and on every page a footer with "Page n of N".
/// </summary>
public sealed class CreditNoteDocument
{
    private const double CellPadding = InvoiceDocument.CellPadding;
    private const double RowPadding = 5;

    private readonly CreditNoteDetail _note;
    private readonly BillingOptions _billing;
    private readonly BillingCalendar _calendar;
    private readonly XFont _title = Font(22, bold: true);
    private readonly XFont _body = Font(9);
    private readonly XFont _bodyBold = Font(9, bold: true);
    private readonly XFont _smallBold = Font(7.5, bold: true);
    private readonly XFont _small = Font(7.5);
    private readonly XFont _total = Font(10.5, bold: true);
    private readonly XBrush _ink = new XSolidBrush(Ink);
    private readonly XBrush _muted = new XSolidBrush(Muted);
    private readonly XBrush _accent = new XSolidBrush(Accent);
    private double _amountWidth;
    private bool _inTable;

    private CreditNoteDocument(CreditNoteDetail note, BillingOptions billing, BillingCalendar calendar)
    {
        _note = note;
        _billing = billing;
        _calendar = calendar;
    }

    public static byte[] Render(CreditNoteDetail note, BillingOptions billing, BillingCalendar calendar)
    {
        EmbeddedFontResolver.Install();
        using var document = new PdfDocument();
        document.Info.Title = $"Credit note {note.Number}";
        document.Info.Author = billing.SellerName;
        document.Info.Subject = $"Credit note {note.Number} for invoice {note.InvoiceNumber}, {note.CustomerName}";
        var writer = new CreditNoteDocument(note, billing, calendar);
        IReadOnlyList<string> instructions;
        using (var canvas = new PdfCanvas(document, writer.ContinuationHeader))
        {
            canvas.NewPage();
            writer.Write(canvas);
            instructions = canvas.Wrap(writer.Settlement(), writer._small, canvas.ContentWidth);
        }
        Footers(document, instructions, $"{billing.SellerName} · Credit note {note.Number}");
        using var stream = new MemoryStream();
        document.Save(stream, false);
        return stream.ToArray();
    }

    private void Write(PdfCanvas canvas)
    {
        _amountWidth = _note.Lines.Select(l => canvas.Width(Format(l.Amount), _body)).Append(canvas.Width(Format(_note.Total), _total))
            .Append(canvas.Width("AMOUNT", _smallBold)).Max() + 2 * CellPadding;
        Header(canvas);
        Parties(canvas);
        _inTable = true;
        TableHeader(canvas);
        foreach (var line in _note.Lines) Row(canvas, line);
        _inTable = false;
        Totals(canvas);
    }

    private void Header(PdfCanvas canvas)
    {
        var top = canvas.Y;
        var y = Seller(canvas, _billing, top, canvas.ContentWidth * 0.45);
        const double metaWidth = 230, labelWidth = 86;
        var metaLeft = canvas.Right - metaWidth;
        canvas.Text("CREDIT NOTE", _title, _accent, metaLeft, top - 4, metaWidth, Align.Right);
        var my = top + PdfCanvas.LineHeight(_title) + 10;
        foreach (var (label, value) in new[]
                 {
                     ("Credit note", _note.Number), ("Issue date", _calendar.FormatDate(_note.IssuedAt)), ("Invoice", _note.InvoiceNumber),
                     ("Reason", ReasonText(_note.Reason)),
                 })
        {
            canvas.Text(label, _body, _muted, metaLeft, my, labelWidth);
            my += canvas.Block(value, _bodyBold, _ink, metaLeft + labelWidth, my, metaWidth - labelWidth, Align.Right) + 2.5;
        }
        canvas.Y = Math.Max(y, my) + 14;
        canvas.Rule(canvas.Left, canvas.Right, canvas.Y, RuleColor);
        canvas.Y += 16;
    }

    private void Parties(PdfCanvas canvas)
    {
        var top = canvas.Y;
        var y = Customer(canvas, "CREDIT TO", _note.CustomerName, _note.CustomerAddress, _note.CustomerEmail, _note.CustomerTaxId, top);
        var panelBottom = AmountPanel(canvas, "TOTAL CREDITED", Format(_note.Total), SettlementShort(), top);
        canvas.Y = Math.Max(y, panelBottom) + 22;
    }

    private void TableHeader(PdfCanvas canvas)
    {
        const double height = 20;
        canvas.Fill(new XRect(canvas.Left, canvas.Y, canvas.ContentWidth, height), Panel);
        canvas.Text("DESCRIPTION", _smallBold, _muted, canvas.Left + CellPadding, canvas.Y + 6, DescriptionWidth(canvas));
        canvas.Text("AMOUNT", _smallBold, _muted, canvas.Right - _amountWidth + CellPadding, canvas.Y + 6, _amountWidth - 2 * CellPadding, Align.Right);
        canvas.Y += height + 2;
    }

    private double DescriptionWidth(PdfCanvas canvas) => canvas.ContentWidth - _amountWidth - 2 * CellPadding;

    private void Row(PdfCanvas canvas, CreditNoteLineRow line)
    {
        var description = canvas.Wrap(line.Description, _body, DescriptionWidth(canvas));
        var height = description.Count * PdfCanvas.LineHeight(_body) + 2 * RowPadding;
        canvas.EnsureRoom(height);
        var top = canvas.Y + RowPadding;
        var y = top;
        foreach (var text in description)
        {
            canvas.Text(text, _body, _ink, canvas.Left + CellPadding, y, DescriptionWidth(canvas));
            y += PdfCanvas.LineHeight(_body);
        }
        canvas.Text(Format(line.Amount), _body, _ink, canvas.Right - _amountWidth + CellPadding, top, _amountWidth - 2 * CellPadding, Align.Right);
        canvas.Y += height;
        canvas.Rule(canvas.Left, canvas.Right, canvas.Y, RuleColor);
    }

    private void Totals(PdfCanvas canvas)
    {
        var memo = _note.Memo is { Length: > 0 } text ? canvas.Wrap(text, _body, canvas.ContentWidth - InvoiceDocument.TotalsWidth - 30) : [];
        var taxNote = TaxNote() is { } note ? canvas.Wrap(note, _small, InvoiceDocument.TotalsWidth) : [];
        canvas.EnsureRoom(60 + Math.Max(memo.Count * PdfCanvas.LineHeight(_body), taxNote.Count * PdfCanvas.LineHeight(_small)));
        canvas.Y += 14;
        var labelLeft = canvas.Right - InvoiceDocument.TotalsWidth;
        canvas.Rule(labelLeft, canvas.Right, canvas.Y - 3, Ink, 0.8);
        canvas.Y += 3;
        canvas.Text("Total credited", _total, _ink, labelLeft, canvas.Y, InvoiceDocument.TotalsWidth - _amountWidth);
        canvas.Text(Format(_note.Total), _total, _ink, canvas.Right - _amountWidth + CellPadding, canvas.Y, _amountWidth - 2 * CellPadding, Align.Right);
        var top = canvas.Y;
        var bottom = top + PdfCanvas.LineHeight(_total) + 3;
        foreach (var line in taxNote)
        {
            canvas.Text(line, _small, _muted, labelLeft, bottom, InvoiceDocument.TotalsWidth);
            bottom += PdfCanvas.LineHeight(_small);
        }
        if (memo.Count > 0)
        {
            canvas.Text("NOTE", _smallBold, _muted, canvas.Left, top, canvas.ContentWidth);
            var y = top + PdfCanvas.LineHeight(_smallBold) + 3;
            foreach (var line in memo)
            {
                canvas.Text(line, _body, _ink, canvas.Left, y, canvas.ContentWidth);
                y += PdfCanvas.LineHeight(_body);
            }
            bottom = Math.Max(bottom, y);
        }
        canvas.Y = bottom;
    }

    /// <summary>The credited invoice's tax: its amounts include it, at the invoice's rates, or none with the reverse-charge mention.</summary>
    private string? TaxNote()
    {
        if (_note.InvoiceTaxes.Any(t => t.ReverseCharge)) return TaxTable.ReverseChargeMention;
        var rates = _note.InvoiceTaxes.Where(t => t.Rate > 0m).Select(t => (t.Rate * 100m).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "%").ToList();
        var tax = IsVatCountry(_note.CustomerAddress) ? "VAT" : "tax";
        return rates.Count == 0 ? null : $"Amounts include {tax} at {string.Join(", ", rates)}, as on invoice {_note.InvoiceNumber}.";
    }

    private void ContinuationHeader(PdfCanvas canvas)
    {
        canvas.Text(_billing.SellerName, _bodyBold, _ink, canvas.Left, canvas.Y, canvas.ContentWidth / 2);
        canvas.Text($"Credit note {_note.Number} (continued)", _body, _muted, canvas.Left + canvas.ContentWidth / 2, canvas.Y,
            canvas.ContentWidth / 2, Align.Right);
        canvas.Y += PdfCanvas.LineHeight(_body) + 8;
        canvas.Rule(canvas.Left, canvas.Right, canvas.Y, RuleColor);
        canvas.Y += 14;
        if (_inTable) TableHeader(canvas);
    }

    private string SettlementShort() => _note.Settlement switch
    {
        "refunded" => "Refunded to the original payment method",
        "customer_credited" => "Added to your account credit",
        _ => $"Taken off invoice {_note.InvoiceNumber}",
    };

    private string Settlement() => _note.Settlement switch
    {
        "refunded" => $"{Format(_note.Total)} has been refunded to the payment method that paid invoice {_note.InvoiceNumber}; it may take a few days to appear.",
        "customer_credited" => $"{Format(_note.Total)} has been added to your account credit and is used for your next invoices.",
        _ => $"{Format(_note.Total)} has been taken off what is due on invoice {_note.InvoiceNumber}.",
    } + $" Please quote {_note.Number} in any correspondence about this credit note.";

    private static string ReasonText(string reason) => reason switch
    {
        "duplicate" => "Duplicate charge",
        "product_unsatisfactory" => "Product unsatisfactory",
        "order_change" => "Order change",
        _ => "Goodwill",
    };

    private string Format(decimal amount) => Currencies.Format(new Money(amount, _note.Currency));
}
