using System.Globalization;
using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Tax;
using BillingConsole.Engine;
using BillingConsole.ReadModels;
using PdfSharp.Drawing;
using PdfSharp.Pdf;
using static BillingConsole.Pdf.DocumentStyle;

namespace BillingConsole.Pdf;

/// <summary>
/// The invoice as the customer receives it: an A4 PDF with the seller, the buyer, the lines, totals and payments,
/// and on every page a footer with payment instructions and "Page n of N". Dates are local dates in the billing time zone.
/// </summary>
public sealed class InvoiceDocument
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    internal const double CellPadding = 6;
    internal const double PeriodColumnWidth = 96;
    private const double RowPadding = 5;

    private readonly InvoiceDetail _invoice;
    private readonly BillingOptions _billing;
    private readonly BillingCalendar _calendar;
    private readonly XFont _title = Font(22, bold: true);
    private readonly XFont _body = Font(9);
    private readonly XFont _bodyBold = Font(9, bold: true);
    private readonly XFont _small = Font(7.5);
    private readonly XFont _smallBold = Font(7.5, bold: true);
    private readonly XFont _due = Font(10.5, bold: true);
    private readonly XFont _stamp = Font(12, bold: true);
    private readonly XBrush _ink = new XSolidBrush(Ink);
    private readonly XBrush _muted = new XSolidBrush(Muted);
    private readonly XBrush _accent = new XSolidBrush(Accent);
    private Column[] _columns = [];
    private bool _inTable;
    private IReadOnlyList<string> _instructions = [];

    private InvoiceDocument(InvoiceDetail invoice, BillingOptions billing, BillingCalendar calendar)
    {
        _invoice = invoice;
        _billing = billing;
        _calendar = calendar;
    }

    public static byte[] Render(InvoiceDetail invoice, BillingOptions billing, BillingCalendar calendar)
    {
        EmbeddedFontResolver.Install();
        using var document = new PdfDocument();
        document.Info.Title = $"Invoice {invoice.Number ?? "draft"}";
        document.Info.Author = billing.SellerName;
        document.Info.Subject = $"{document.Info.Title} for {invoice.CustomerName}";
        new InvoiceDocument(invoice, billing, calendar).Write(document);
        using var stream = new MemoryStream();
        document.Save(stream, false);
        return stream.ToArray();
    }

    private void Write(PdfDocument document)
    {
        using (var canvas = new PdfCanvas(document, ContinuationHeader))
        {
            canvas.NewPage();
            _columns = Columns(canvas);
            Header(canvas);
            Parties(canvas);
            LineTable(canvas);
            Totals(canvas);
            _instructions = canvas.Wrap(PaymentInstructions(), _small, canvas.ContentWidth);
        }
        var identity = _invoice.Number is { } number ? $"{_billing.SellerName} · Invoice {number}" : _billing.SellerName;
        Footers(document, _instructions, identity);
    }

    private void Header(PdfCanvas canvas)
    {
        var top = canvas.Y;
        var stamp = StampText();
        var sellerWidth = canvas.ContentWidth * (stamp is null ? 0.5 : 0.42);
        var y = Seller(canvas, _billing, top, sellerWidth);

        // Wide enough for a period spanning two years on one line.
        const double metaWidth = 230, labelWidth = 76;
        var metaLeft = canvas.Right - metaWidth;
        canvas.Text("INVOICE", _title, _accent, metaLeft, top - 4, metaWidth, Align.Right);
        var my = top + PdfCanvas.LineHeight(_title) + 10;
        foreach (var (label, value) in Meta())
        {
            canvas.Text(label, _body, _muted, metaLeft, my, labelWidth);
            my += canvas.Block(value, _bodyBold, _ink, metaLeft + labelWidth, my, metaWidth - labelWidth, Align.Right) + 2.5;
        }

        if (stamp is { } s)
            Stamp(canvas, s.Text, s.Color, canvas.Right - canvas.Width("INVOICE", _title) - 16, top + 8);

        canvas.Y = Math.Max(y, my) + 14;
        canvas.Rule(canvas.Left, canvas.Right, canvas.Y, RuleColor);
        canvas.Y += 16;
    }

    private IEnumerable<(string Label, string Value)> Meta()
    {
        yield return ("Invoice number", _invoice.Number ?? "Draft");
        yield return ("Issue date", Date(_invoice.IssuedAt));
        yield return ("Due date", Date(_invoice.DueAt));
        yield return ("Period", Period(_invoice.PeriodStart, _invoice.PeriodEnd));
    }

    private (string Text, XColor Color)? StampText() => _invoice.Status switch
    {
        "paid" => ("PAID", XColor.FromArgb(21, 128, 61)),
        "void" => ("VOID", XColor.FromArgb(75, 85, 99)),
        "uncollectible" => ("UNCOLLECTIBLE", XColor.FromArgb(185, 28, 28)),
        "draft" => ("DRAFT", XColor.FromArgb(75, 85, 99)),
        _ => null,
    };

    /// <summary>A rubber stamp, tilted, whose right edge sits at <paramref name="right"/>.</summary>
    private void Stamp(PdfCanvas canvas, string text, XColor color, double right, double middle)
    {
        var width = canvas.Width(text, _stamp) + 20;
        const double height = 24;
        var box = new XRect(right - width, middle - height / 2, width, height);
        var graphics = canvas.Graphics;
        var state = graphics.Save();
        graphics.RotateAtTransform(-6, new XPoint(box.X + width / 2, middle));
        var ink = XColor.FromArgb(210, color.R, color.G, color.B);
        graphics.DrawRoundedRectangle(new XPen(ink, 2), box, new XSize(6, 6));
        PdfCanvas.DrawLine(graphics, text, _stamp, new XSolidBrush(ink), box.X, middle - PdfCanvas.LineHeight(_stamp) / 2, width, Align.Center);
        graphics.Restore(state);
    }

    private void Parties(PdfCanvas canvas)
    {
        var top = canvas.Y;
        var y = Customer(canvas, "BILL TO", _invoice.CustomerName, _invoice.CustomerAddress, _invoice.CustomerEmail, _invoice.CustomerTaxId, top);
        var panelBottom = AmountPanel(canvas, "AMOUNT DUE", Format(Owed), DueNote(), top);
        canvas.Y = Math.Max(y, panelBottom) + 22;
    }

    private string DueNote() => _invoice.Status switch
    {
        "paid" when _invoice.PaidAt is { } paid => $"Paid in full on {Date(paid)}",
        "void" when _invoice.VoidedAt is { } voided => $"Voided on {Date(voided)}; nothing to pay",
        "draft" => "Not issued yet",
        _ => $"Due {Date(_invoice.DueAt)}",
    };

    /// <summary>
    /// What the customer still owes. An uncollectible invoice is written off in the books but still owed by the customer,
    /// and paying it later is allowed, so the written-off amount is printed as due.
    /// </summary>
    private decimal Owed => _invoice.Status == "uncollectible" ? _invoice.AmountWrittenOff : _invoice.AmountDue;

    private void LineTable(PdfCanvas canvas)
    {
        _inTable = true;
        TableHeader(canvas);
        // The last line moves with the totals when they do not fit below it, so totals never stand alone on a page.
        for (var index = 0; index < _invoice.Lines.Count; index++)
            Row(canvas, _invoice.Lines[index], index == _invoice.Lines.Count - 1 ? TotalsHeight(canvas) : 0);
        if (_invoice.Lines.Count == 0)
        {
            canvas.Text("No lines.", _body, _muted, canvas.Left + CellPadding, canvas.Y + RowPadding, canvas.ContentWidth);
            canvas.Y += PdfCanvas.LineHeight(_body) + 2 * RowPadding;
        }
        _inTable = false;
    }

    /// <summary>
    /// The figures' columns are as wide as their widest figure (the amount column also holds the totals' amounts); the description
    /// takes what they leave.
    /// </summary>
    private Column[] Columns(PdfCanvas canvas)
    {
        double Fitting(string header, double least, IEnumerable<(string Text, XFont Font)> cells)
        {
            var widest = cells.Select(c => canvas.Width(c.Text, c.Font)).Append(canvas.Width(header.ToUpperInvariant(), _smallBold)).Max();
            return Math.Max(least, widest) + 2 * CellPadding;
        }
        var lines = _invoice.Lines;
        Column[] fixedColumns =
        [
            new("Period", PeriodColumnWidth, Align.Left),
            new("Qty", Fitting("Qty", 18, lines.Select(l => (Quantity(l), _body))), Align.Right),
            new("Unit price", Fitting("Unit price", 70, lines.Select(l => (Format(l.UnitAmount), _body))), Align.Right),
            new("Amount", Fitting("Amount", 74, lines.Select(l => (Format(l.Amount), _body)).Concat(TotalRows().Select(r => (r.Amount, FontOf(r))))),
                Align.Right),
        ];
        return [new("Description", canvas.ContentWidth - fixedColumns.Sum(c => c.Width), Align.Left), .. fixedColumns];
    }

    private static string Quantity(InvoiceLineRow line) => line.Quantity.ToString("N0", Invariant);

    private void TableHeader(PdfCanvas canvas)
    {
        const double height = 20;
        canvas.Fill(new XRect(canvas.Left, canvas.Y, canvas.ContentWidth, height), Panel);
        var x = canvas.Left;
        foreach (var column in _columns)
        {
            canvas.Text(column.Header.ToUpperInvariant(), _smallBold, _muted, x + CellPadding, canvas.Y + 6, column.Width - 2 * CellPadding, column.Align);
            x += column.Width;
        }
        canvas.Y += height + 2;
    }

    private void Row(PdfCanvas canvas, InvoiceLineRow line, double keepWithNext)
    {
        var description = canvas.Wrap(line.Description, _body, _columns[0].Width - 2 * CellPadding);
        var tag = line.Kind switch { "proration_credit" => "Proration credit", "proration_charge" => "Proration charge", _ => null };
        var period = canvas.Wrap(Period(line.PeriodStart, line.PeriodEnd), _small, _columns[1].Width - 2 * CellPadding);
        var descriptionHeight = description.Count * PdfCanvas.LineHeight(_body) + (tag is null ? 0 : PdfCanvas.LineHeight(_small) + 1);
        var height = Math.Max(descriptionHeight, period.Count * PdfCanvas.LineHeight(_small)) + 2 * RowPadding;
        canvas.EnsureRoom(height + keepWithNext);

        var top = canvas.Y + RowPadding;
        var x = canvas.Left + CellPadding;
        var y = top;
        foreach (var text in description)
        {
            canvas.Text(text, _body, _ink, x, y, _columns[0].Width - 2 * CellPadding);
            y += PdfCanvas.LineHeight(_body);
        }
        if (tag is not null) canvas.Text(tag, _small, _accent, x, y + 1, _columns[0].Width - 2 * CellPadding);

        x += _columns[0].Width;
        y = top + 1;
        foreach (var text in period)
        {
            canvas.Text(text, _small, _muted, x, y, _columns[1].Width - 2 * CellPadding);
            y += PdfCanvas.LineHeight(_small);
        }
        x += _columns[1].Width;
        canvas.Text(Quantity(line), _body, _ink, x, top, _columns[2].Width - 2 * CellPadding, Align.Right);
        x += _columns[2].Width;
        canvas.Text(Format(line.UnitAmount), _body, _ink, x, top, _columns[3].Width - 2 * CellPadding, Align.Right);
        x += _columns[3].Width;
        canvas.Text(Format(line.Amount), _body, _ink, x, top, _columns[4].Width - 2 * CellPadding, Align.Right);

        canvas.Y += height;
        canvas.Rule(canvas.Left, canvas.Right, canvas.Y, RuleColor);
    }

    private void Totals(PdfCanvas canvas)
    {
        var rows = TotalRows().ToList();
        canvas.EnsureRoom(TotalsHeight(canvas));
        canvas.Y += TotalsGap;

        var amountWidth = _columns[^1].Width - 2 * CellPadding;
        var labelLeft = canvas.Right - TotalsWidth;
        var labelWidth = TotalsWidth - amountWidth - 2 * CellPadding;
        var amountLeft = canvas.Right - CellPadding - amountWidth;
        var termsTop = canvas.Y;
        foreach (var row in rows)
        {
            if (row.Emphasis)
            {
                canvas.Rule(labelLeft, canvas.Right, canvas.Y - 3, Ink, 0.8);
                canvas.Y += 3;
            }
            var font = FontOf(row);
            canvas.Text(row.Label, font, _ink, labelLeft, canvas.Y, labelWidth);
            canvas.Text(row.Amount, font, _ink, amountLeft, canvas.Y, amountWidth, Align.Right);
            canvas.Y += PdfCanvas.LineHeight(font);
            if (row.Note is { } note) canvas.Y += canvas.Block(note, _small, _muted, labelLeft, canvas.Y, NoteWidth);
            canvas.Y += 5;
        }

        var termsWidth = canvas.ContentWidth - TotalsWidth - 30;
        canvas.Text("PAYMENT TERMS", _smallBold, _muted, canvas.Left, termsTop, termsWidth);
        canvas.Block(Terms(), _body, _ink, canvas.Left, termsTop + PdfCanvas.LineHeight(_smallBold) + 3, termsWidth);
    }

    private const double TotalsGap = 14;
    internal const double TotalsWidth = 250;
    private const double NoteWidth = TotalsWidth - 2 * CellPadding;

    private XFont FontOf(TotalRow row) => row.Final ? _due : row.Emphasis ? _bodyBold : _body;

    private double TotalsHeight(PdfCanvas canvas) => TotalsGap + TotalRows().Sum(row =>
        PdfCanvas.LineHeight(FontOf(row)) + 5 + (row.Emphasis ? 3 : 0)
        + (row.Note is null ? 0 : canvas.Wrap(row.Note, _small, NoteWidth).Count * PdfCanvas.LineHeight(_small)));

    private IEnumerable<TotalRow> TotalRows()
    {
        yield return new("Subtotal", Format(_invoice.Subtotal));
        foreach (var row in TaxRows()) yield return row;
        yield return new("Total", Format(_invoice.Total), Emphasis: true);
        if (_invoice.CreditApplied != 0m) yield return new("Credit applied", Format(-_invoice.CreditApplied));
        if (_invoice.AmountPaid != 0m) yield return new("Amount paid", Format(-_invoice.AmountPaid), Note: PaymentNote());
        // On an open invoice credit notes reduce what is due; a paid invoice's are documents of their own.
        if (_invoice.Status == "open" && _invoice.AmountCredited != 0m) yield return new("Credit notes", Format(-_invoice.AmountCredited));
        yield return new("Amount due", Format(Owed), Emphasis: true, Final: true);
    }

    /// <summary>
    /// One row per rate the lines were taxed at, as stored on them; with several rates each says what it taxed. A reverse-charged
    /// invoice carries the legal mention under its 0 % row.
    /// </summary>
    private IEnumerable<TotalRow> TaxRows()
    {
        var tax = IsVatCountry(_invoice.CustomerAddress) ? "VAT" : "Tax";
        var rates = _invoice.TaxRates;
        foreach (var rate in rates)
        {
            var note = rate.ReverseCharge ? TaxTable.ReverseChargeMention : rates.Count > 1 ? $"on {Format(rate.Taxable)}" : null;
            yield return new($"{tax} {(rate.Rate * 100m).ToString("0.###", Invariant)}%", Format(rate.Tax), Note: note);
        }
    }

    private string? PaymentNote()
    {
        var payment = _invoice.Attempts.LastOrDefault(a => a.Status == "succeeded");
        if (payment is null) return null;
        var note = $"Received {Date(payment.CompletedAt ?? payment.StartedAt)}";
        return payment.GatewayReference is { Length: > 0 } reference ? $"{note} · Ref. {reference}" : note;
    }

    private string Terms()
    {
        if (_invoice.IssuedAt is not { } issued || _invoice.DueAt is not { } due) return "Payable once issued";
        var days = (int)Math.Round((due - issued).TotalDays);
        return days <= 0 ? "Due on receipt" : $"Net {days} days (due {Date(due)})";
    }

    private string PaymentInstructions()
    {
        var number = _invoice.Number ?? "this invoice";
        return _invoice.Status switch
        {
            "paid" => $"Paid in full, thank you. Please quote {number} in any correspondence about this invoice.",
            "void" => $"This invoice has been voided and nothing is payable. Please quote {number} in any correspondence.",
            "draft" => "Draft: this invoice has not been issued and is not payable yet.",
            _ => $"Please pay {Format(Owed)} by {Date(_invoice.DueAt)}. The payment method on file is charged automatically; "
                 + $"to pay another way, quote {number} as the payment reference.",
        };
    }

    private void ContinuationHeader(PdfCanvas canvas)
    {
        canvas.Text(_billing.SellerName, _bodyBold, _ink, canvas.Left, canvas.Y, canvas.ContentWidth / 2);
        canvas.Text($"Invoice {_invoice.Number ?? "draft"} (continued)", _body, _muted, canvas.Left + canvas.ContentWidth / 2, canvas.Y,
            canvas.ContentWidth / 2, Align.Right);
        canvas.Y += PdfCanvas.LineHeight(_body) + 8;
        canvas.Rule(canvas.Left, canvas.Right, canvas.Y, RuleColor);
        canvas.Y += 14;
        if (_inTable) TableHeader(canvas);
    }

    private string Format(decimal amount) => Currencies.Format(new Money(amount, _invoice.Currency));

    private string Date(DateTimeOffset? instant) => instant is { } value ? _calendar.FormatDate(value) : "—";

    /// <summary>
    /// "1 Jan – 1 Feb 2027"; the start's year too when the period spans two years; one date for a single day (a one-off
    /// invoice). Each date's spaces do not break, so a period too long for its column wraps at the dash.
    /// </summary>
    private string Period(DateTimeOffset start, DateTimeOffset end)
    {
        var (from, to) = (_calendar.LocalDate(start), _calendar.LocalDate(end));
        if (from == to) return to.ToString("d\u00A0MMM\u00A0yyyy", Invariant);
        var startFormat = from.Year == to.Year ? "d\u00A0MMM" : "d\u00A0MMM\u00A0yyyy";
        return $"{from.ToString(startFormat, Invariant)} – {to.ToString("d\u00A0MMM\u00A0yyyy", Invariant)}";
    }

    private sealed record Column(string Header, double Width, Align Align);

    private sealed record TotalRow(string Label, string Amount, bool Emphasis = false, string? Note = null, bool Final = false);
}
