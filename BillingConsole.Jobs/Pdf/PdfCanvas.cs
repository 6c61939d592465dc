using PdfSharp;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace BillingConsole.Pdf;

internal enum Align { Left, Right, Center }

/// <summary>
/// A4 pages drawn top to bottom with a cursor: text that never leaves its box and is never cut (wrapped or shrunk),
/// rules, and a new page with a continuation header whenever the next block would not fit above the footer.
/// </summary>
internal sealed class PdfCanvas(PdfDocument document, Action<PdfCanvas> continuationHeader) : IDisposable
{
    public const double Margin = 48;
    /// <summary>How small a line's type may get to fit its box; longer text is wrapped by its caller.</summary>
    private const double SmallestType = 4;
    private XGraphics? _graphics;

    public double PageWidth { get; private set; }
    public double PageHeight { get; private set; }
    public double Left => Margin;
    public double Right => PageWidth - Margin;
    public double ContentWidth => Right - Left;
    /// <summary>The footer's band at the foot of every page, from its rule down.</summary>
    public const double FooterHeight = 68;
    /// <summary>Where content ends on every page, a little above the footer's rule.</summary>
    public double Bottom => PageHeight - FooterHeight - 10;
    public double Y { get; set; }
    public XGraphics Graphics => _graphics ?? throw new InvalidOperationException("No page has been started.");

    public void NewPage()
    {
        _graphics?.Dispose();
        var page = document.AddPage();
        page.Size = PageSize.A4;
        PageWidth = page.Width.Point;
        PageHeight = page.Height.Point;
        _graphics = XGraphics.FromPdfPage(page);
        Y = Margin;
        if (document.PageCount > 1) continuationHeader(this);
    }

    /// <summary>Starts a new page when a block of this height would run into the footer.</summary>
    public void EnsureRoom(double height)
    {
        if (Y + height > Bottom) NewPage();
    }

    public static double LineHeight(XFont font) => font.GetHeight();

    public double Width(string text, XFont font) => Graphics.MeasureString(text, font).Width;

    /// <summary>One line of text whose top is at <paramref name="top"/>, never cut (see <see cref="DrawLine"/>).</summary>
    public void Text(string text, XFont font, XBrush brush, double x, double top, double width, Align align = Align.Left) =>
        DrawLine(Graphics, text, font, brush, x, top, width, align);

    /// <summary>Text wrapped to the width of its box, every word of it; returns the height it took.</summary>
    public double Block(string text, XFont font, XBrush brush, double x, double top, double width, Align align = Align.Left)
    {
        var lines = Wrap(text, font, width);
        for (var index = 0; index < lines.Count; index++)
            Text(lines[index], font, brush, x, top + index * LineHeight(font), width, align);
        return lines.Count * LineHeight(font);
    }

    /// <summary>Word-wrapped lines holding all of the text; a word wider than the box is broken where it reaches the edge.</summary>
    public IReadOnlyList<string> Wrap(string text, XFont font, double width)
    {
        var lines = new List<string>();
        var words = new Queue<string>(text.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        while (words.Count > 0)
        {
            var line = words.Dequeue();
            if (Width(line, font) > width)
            {
                var cut = FittingLength(line, font, width);
                words = new Queue<string>([line[cut..], .. words]);
                line = line[..cut];
            }
            while (words.Count > 0 && Width(line + " " + words.Peek(), font) <= width) line += " " + words.Dequeue();
            lines.Add(line);
        }
        return lines;
    }

    public void Rule(double x1, double x2, double y, XColor color, double thickness = 0.5) =>
        Graphics.DrawLine(new XPen(color, thickness), x1, y, x2, y);

    public void Fill(XRect area, XColor color) => Graphics.DrawRectangle(new XSolidBrush(color), area);

    private int FittingLength(string text, XFont font, double width)
    {
        var length = 0;
        while (length < text.Length && Width(text[..(length + 1)], font) <= width) length++;
        return Math.Max(length, 1);
    }

    /// <summary>
    /// Draws one line on any page's graphics (the footers are added once the page count is known). Text is never cut: when it is
    /// wider than its box, its type gets smaller until it fits, on the same baseline.
    /// </summary>
    public static void DrawLine(XGraphics graphics, string text, XFont font, XBrush brush, double x, double top, double width, Align align)
    {
        var fitted = font;
        while (graphics.MeasureString(text, fitted).Width > width && fitted.Size > SmallestType)
            fitted = new XFont(font.FontFamily.Name, fitted.Size - 0.25, font.Bold ? XFontStyleEx.Bold : XFontStyleEx.Regular);
        var format = align switch { Align.Right => XStringFormats.TopRight, Align.Center => XStringFormats.TopCenter, _ => XStringFormats.TopLeft };
        graphics.DrawString(text, fitted, brush, new XRect(x, top + (font.Size - fitted.Size) * 0.8, width, LineHeight(fitted)), format);
    }

    public void Dispose()
    {
        _graphics?.Dispose();
        _graphics = null;
    }
}
